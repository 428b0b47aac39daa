// The ring's sound in an open tab: a short two-note chime made with WebAudio (no audio file),
// repeated a few times; muted per browser (remembered in localStorage).

const MUTED_KEY = "doorstep.ringtone.muted";
const EVERY_MS = 2500;
const ROUNDS = 6;

let context = null;
let timer = null;

/** Whether the ringtone is muted in this browser. */
export function isMuted() {
  try { return localStorage.getItem(MUTED_KEY) === "1"; } catch { return false; }
}

/** Mute or unmute the ringtone (stops one that is playing). */
export function setMuted(muted) {
  try { localStorage.setItem(MUTED_KEY, muted ? "1" : "0"); } catch { /* private mode: this page only */ }
  if (muted) stopRingtone();
  window.dispatchEvent(new Event("doorstep:mute-change"));
}

function note(frequency, startAt, seconds) {
  const osc = context.createOscillator();
  const gain = context.createGain();
  osc.type = "sine";
  osc.frequency.value = frequency;
  gain.gain.setValueAtTime(0.0001, startAt);
  gain.gain.exponentialRampToValueAtTime(0.25, startAt + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, startAt + seconds);
  osc.connect(gain).connect(context.destination);
  osc.start(startAt);
  osc.stop(startAt + seconds + 0.05);
}

function chime() {
  if (context.state === "suspended") context.resume().catch(() => {});
  const now = context.currentTime;
  note(659.25, now, 0.7);         // E5
  note(523.25, now + 0.45, 1.1);  // C5: "ding-dong"
}

/** Start the chime (once per ring); silent when muted or before the page had any user gesture. */
export function startRingtone() {
  // Browsers refuse sound before the person touched the page; asking would only log a warning.
  if (isMuted() || !navigator.userActivation?.hasBeenActive || !window.AudioContext) return;
  stopRingtone();
  context ??= new AudioContext();
  let round = 1;
  chime();
  timer = setInterval(() => {
    if (round >= ROUNDS) { stopRingtone(); return; }
    round += 1;
    chime();
  }, EVERY_MS);
}

/** Stop the chime. */
export function stopRingtone() {
  clearInterval(timer);
  timer = null;
}

/** Whether the chime is playing now. */
export function ringtonePlaying() {
  return timer !== null;
}
