// Live view and talk: one WebRTC call per page (WHEP-style signalling), push-to-talk.
import { api } from "../api.js";
import { h, show } from "../dom.js";

const GATHER_TIMEOUT_MS = 2000;
const STREAM_CHECK_MS = 2000;  // how often the call asks whether the camera's stream opens
const STATES = {
  new: "Connecting…", connecting: "Connecting…", connected: "Live",
  disconnected: "Connection interrupted…", failed: "Connection lost", closed: "Call ended",
  "stream-unreachable": "Camera stream unreachable",
};

let current = null;  // the call on screen; a new page or hash change hangs it up

async function microphone() {
  if (!navigator.mediaDevices?.getUserMedia) return { track: null, reason: "this browser gives no microphone here (HTTPS is needed)" };
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    return { track: stream.getAudioTracks()[0], reason: null };
  } catch (err) {
    return { track: null, reason: err.name === "NotAllowedError" ? "microphone access was refused" : "no microphone found" };
  }
}

function gathered(pc) {
  return new Promise((done) => {
    if (pc.iceGatheringState === "complete") return done();
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && done());
    setTimeout(done, GATHER_TIMEOUT_MS);  // host candidates come at once; don't wait on STUN
  });
}

class LiveCall {
  constructor(camera, ui) {
    this.camera = camera;
    this.ui = ui;
    this.pc = null;
    this.session = null;
    this.mic = null;
    this.micSender = null;
    this.talkWatch = null;
    this.presses = 0;
    this.talking = false;
    this.ended = false;
    this.streamWatch = null;
    this.streamError = null;  // why the gateway cannot open the camera's stream, while it cannot
  }

  async start() {
    const asking = microphone();  // the permission prompt and the request, side by side
    let ice;
    try {
      ice = await api("GET", "/api/live/ice");
    } catch (err) {
      (await asking).track?.stop();  // no call: give the microphone back at once
      throw err;
    }
    const { track, reason } = await asking;
    this.mic = track;
    const pc = new RTCPeerConnection({ iceServers: ice.ice_servers.map(({ urls, username, credential }) =>
      username ? { urls, username, credential } : { urls }) });
    this.pc = pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    if (track) {
      track.enabled = false;  // push-to-talk: silent until Talk is held
      this.micSender = pc.addTransceiver(track, { direction: "sendonly" }).sender;
    }
    const remote = new MediaStream();
    pc.addEventListener("track", (e) => {
      remote.addTrack(e.track);
      this.ui.video.srcObject = remote;
    });
    pc.addEventListener("connectionstatechange", () => this.showState());
    this.setState("connecting");
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    if (this.ended) return;
    const answer = await api("POST", `/api/live/${encodeURIComponent(this.camera.id)}`, { sdp: pc.localDescription.sdp });
    this.session = answer.session;
    if (this.ended) { await this.hangUp(); return; }
    // The call can connect while the gateway cannot reach the camera's stream: say so.
    this.checkStream();
    this.streamWatch = setInterval(() => this.checkStream(), STREAM_CHECK_MS);
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    // Nothing of the microphone leaves the phone until Talk is held (not even silence, which
    // the gateway would have to decode for every viewer).
    if (this.micSender && !this.talking) await this.micSender.replaceTrack(null);
    this.ui.talkReady(answer.talk, answer.microphone ? null : reason || "microphone not available");
  }

  setState(state) {
    this.ui.status.textContent = STATES[state] || state;
    this.ui.status.dataset.state = state;
  }

  // The peer connection's state, unless the camera's stream is what fails.
  showState() {
    const state = this.pc ? this.pc.connectionState : "new";
    const live = ["new", "connecting", "connected"].includes(state);
    this.setState(this.streamError && live && !this.ended ? "stream-unreachable" : state);
  }

  async checkStream() {
    // While video plays and nothing is wrong, there is nothing to ask: frames are the answer.
    const played = this.ui.video.currentTime;
    const flowing = played > (this.lastPlayed ?? 0) && !this.ui.video.paused;
    this.lastPlayed = played;
    if (flowing && !this.streamError) return;
    let cameras;
    try { ({ cameras } = await api("GET", "/api/cameras")); } catch { return; }
    if (this.ended) return;
    const error = cameras.find((c) => c.id === this.camera.id)?.stream_error || null;
    if (error === this.streamError) return;
    if (error) this.ui.note(`The gateway cannot open this camera's stream: ${error}. It keeps trying.`);
    else if (this.streamError) this.ui.note("");
    this.streamError = error;
    this.showState();
  }

  async press() {
    if (this.talking || !this.session || !this.mic) return;
    this.talking = true;
    this.presses += 1;
    this.ui.talkButton.classList.add("talking");
    this.ui.talkButton.textContent = "Talking… release to stop";
    try {
      await api("POST", `/api/live/session/${this.session}/talk`);
      if (this.talking) {
        await this.micSender.replaceTrack(this.mic);
        this.mic.enabled = this.talking;  // unless released meanwhile
        clearInterval(this.talkWatch);
        this.talkWatch = setInterval(() => this.checkTalk(), 1000);
      }
      else await this.sendRelease();  // released before the speaker opened
    } catch (err) {
      this.talking = false;
      this.resetTalkButton();
      this.ui.note(err.message);
    }
  }

  async release() {
    if (!this.talking) return;
    await this.stopTalking();
    await this.sendRelease();
  }

  async stopTalking() {
    this.talking = false;
    clearInterval(this.talkWatch);
    if (this.mic) this.mic.enabled = false;
    if (this.micSender) await this.micSender.replaceTrack(null).catch(() => {});
    this.resetTalkButton();
  }

  // While Talk is held: did the camera drop its speaker? Then stop showing "Talking".
  async checkTalk() {
    if (!this.talking || !this.session) return;
    const press = this.presses;
    let state;
    try { state = await api("GET", `/api/live/session/${this.session}/talk`); } catch { return; }
    if (state.talking || !this.talking || press !== this.presses) return;  // answered for an older press
    await this.stopTalking();
    this.ui.note(`The camera stopped the talk${state.error ? ` (${state.error})` : ""}. Hold Talk to try again.`);
  }

  async sendRelease() {
    try { await api("DELETE", `/api/live/session/${this.session}/talk`); } catch { /* call already over */ }
  }

  resetTalkButton() {
    this.ui.talkButton.classList.remove("talking");
    this.ui.talkButton.textContent = "Hold to talk";
  }

  async hangUp() {
    this.ended = true;
    clearInterval(this.talkWatch);
    clearInterval(this.streamWatch);
    const session = this.session;
    this.session = null;
    if (this.mic) this.mic.stop();
    if (session) {
      // keepalive: the request still goes out when the page is being left.
      await fetch(`/api/live/session/${session}`, { method: "DELETE", keepalive: true, credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: "{}" }).catch(() => {});
    }
    if (this.pc) this.pc.close();
    this.setState("closed");
  }
}

export function hangUpCurrent() {
  if (current) { current.hangUp(); current = null; }
}

window.addEventListener("pagehide", hangUpCurrent);

export async function liveView(id) {
  hangUpCurrent();
  const { cameras } = await api("GET", "/api/cameras");
  const camera = cameras.find((c) => c.id === id);
  if (!camera) { show(h("h1", {}, "Not found"), h("p", {}, "No such camera, or it is not shared with you.")); return; }
  const video = h("video", { class: "live-video", autoplay: true, playsinline: true, "aria-label": `Live view of ${camera.name}` });
  const status = h("span", { class: "live-status", role: "status" }, "Connecting…");
  const note = h("p", { class: "muted small live-note", role: "status" });
  const talkButton = h("button", { type: "button", class: "talk", id: "talk", disabled: true }, "Hold to talk");
  const muteButton = h("button", { type: "button", class: "secondary", id: "mute" }, "Mute sound");
  const hangUpButton = h("button", { type: "button", class: "danger", id: "hangup" }, "Hang up");
  const ui = {
    video, status, talkButton,
    note: (text) => { note.textContent = text || ""; },
    talkReady(talk, micProblem) {
      if (talk === false) { talkButton.textContent = "This camera has no speaker"; ui.note("Talk needs a camera with an audio backchannel."); return; }
      if (micProblem) { talkButton.textContent = "Talk unavailable"; ui.note(`Talk unavailable: ${micProblem}.`); return; }
      talkButton.disabled = false;
    },
  };
  const call = new LiveCall(camera, ui);
  current = call;
  // Push-to-talk: pointer (touch and mouse) and keyboard (Space/Enter held).
  talkButton.addEventListener("pointerdown", (e) => { e.preventDefault(); talkButton.setPointerCapture(e.pointerId); call.press(); });
  for (const name of ["pointerup", "pointercancel", "lostpointercapture"]) talkButton.addEventListener(name, () => call.release());
  talkButton.addEventListener("keydown", (e) => { if ((e.key === " " || e.key === "Enter") && !e.repeat) { e.preventDefault(); call.press(); } });
  talkButton.addEventListener("keyup", (e) => { if (e.key === " " || e.key === "Enter") call.release(); });
  talkButton.addEventListener("contextmenu", (e) => e.preventDefault());
  muteButton.addEventListener("click", () => {
    video.muted = !video.muted;
    muteButton.textContent = video.muted ? "Unmute sound" : "Mute sound";
    muteButton.setAttribute("aria-pressed", String(video.muted));
  });
  hangUpButton.addEventListener("click", async () => {
    await call.release();
    await call.hangUp();
    if (current === call) current = null;
    location.hash = `#/camera/${encodeURIComponent(id)}`;
  });
  show(h("div", { class: "live" },
    h("div", { class: "live-head" }, h("h1", {}, camera.name), status),
    h("div", { class: "live-frame" }, video),
    h("div", { class: "live-controls" }, talkButton, muteButton, hangUpButton),
    note));
  try {
    await call.start();
  } catch (err) {
    call.setState("failed");
    ui.note(err.message);
  }
}
