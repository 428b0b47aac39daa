// The ring banner on every page: the visitor's snapshot, Answer (opens the live view), mute for
// the chime, dismiss. It sits in the page's flow, above the content, so it never covers video.
import { html, useEffect, useState } from "../lib/html.js";
import { cameraName, dismissRing, clearRing } from "../lib/ring.js";
import { href } from "../lib/router.js";
import { isMuted, setMuted } from "../lib/ringtone.js";
import { store, useStore } from "../lib/store.js";
import { when } from "../lib/format.js";
import { Icon } from "./icons.js";

const SECOND_TAP_MS = 500;

/** After Answer the banner goes, and the second tap of a double tap would land on what takes
 * its place (a camera card, the live view's header): taps where the banner was are swallowed
 * for a moment. */
function swallowSecondTap(banner) {
  const area = banner?.getBoundingClientRect();
  if (!area) return;
  const swallow = (e) => {
    if (e.clientX < area.left || e.clientX > area.right || e.clientY < area.top || e.clientY > area.bottom) return;
    e.preventDefault();
    e.stopPropagation();
  };
  const kinds = ["click", "pointerdown"];
  for (const kind of kinds) document.addEventListener(kind, swallow, true);
  setTimeout(() => { for (const kind of kinds) document.removeEventListener(kind, swallow, true); }, SECOND_TAP_MS);
}

/** A hook: whether the ringtone is muted, following changes from any page. */
export function useMuted() {
  const [muted, set] = useState(isMuted);
  useEffect(() => {
    const update = () => set(isMuted());
    window.addEventListener("doorstep:mute-change", update);
    window.addEventListener("storage", update);
    return () => { window.removeEventListener("doorstep:mute-change", update); window.removeEventListener("storage", update); };
  }, []);
  return muted;
}

/** The banner (an empty, hidden region while nothing rings). */
export function RingBanner() {
  const ring = useStore((s) => s.ring);
  const call = useStore((s) => s.call);
  useStore((s) => s.cameras);  // the name once the list arrives
  const muted = useMuted();
  const [failed, setFailed] = useState(null);
  if (!ring) return html`<div id="ring" role="alert" aria-live="assertive" hidden></div>`;
  const name = cameraName(ring.camera_id);
  const inThisCall = call?.camera_id === ring.camera_id;
  const answer = (e) => {
    // Already in that call (this page): answering again must not restart it.
    if (inThisCall) e.preventDefault();
    else store.set({ answering: { camera_id: ring.camera_id, ring_id: ring.ring_id } });
    swallowSecondTap(e.currentTarget.closest("#ring"));
    clearRing();  // the call prepared for the ring stays: the live view adopts it
  };
  const snapshot = `/api/cameras/${encodeURIComponent(ring.camera_id)}/snapshot?ring=${encodeURIComponent(ring.started_at || "")}`;
  return html`<div id="ring" role="alert" aria-live="assertive" class="ring">
    ${failed === snapshot ? html`<span class="ring-icon"><${Icon} name="bell" size=${28} /></span>`
      : html`<img class="ring-snapshot" src=${snapshot} alt=${`Visitor at ${name}`} onError=${() => setFailed(snapshot)} />`}
    <div class="ring-text">
      <strong>Someone is at the door</strong>
      <span class="ring-camera">${name}</span>
      <span class="ring-time">${when(ring.started_at)}</span>
    </div>
    <div class="ring-actions">
      <a class="button answer" id="answer" href=${href("live", ring.camera_id)} onClick=${answer}>
        <${Icon} name="phone" /><span>${inThisCall ? "In the call" : "Answer"}</span></a>
      <button type="button" class="ring-mute ghost" aria-pressed=${muted ? "true" : "false"} onClick=${() => setMuted(!muted)}>
        <${Icon} name=${muted ? "muted" : "sound"} /><span>Mute chime</span></button>
      <button type="button" class="ghost" onClick=${dismissRing}><${Icon} name="close" /><span>Dismiss</span></button>
    </div>
  </div>`;
}
