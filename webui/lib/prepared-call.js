// "Answer faster than anyone": while the ring banner shows, the page prepares the call in the
// background (signalling and ICE done, the gateway sending nothing yet), so that Answer only has
// to say "start". One prepared call per ring per page, only while the page is visible, never for
// a camera this page is in a call with. It belongs to no view: the live view adopts it (the same
// peer connection and stream), and a view change cannot throw it away. Someone else answering,
// the ring ending, Dismiss, leaving the page and the page going out of sight close it.
import { api } from "./api.js";
import { callPeer, completeOffer, endSession } from "./live-call.js";
import { store } from "./store.js";
import { inHousehold } from "./words.js";

let pending = null;       // the call prepared (or being prepared) here and not adopted yet
const tried = new Set();  // rings this page prepared a call for: never a second one at once

/** A call prepared for one ring: connected, media paused, until adopted or closed. */
class PreparedCall {
  constructor(ring) {
    this.ringId = ring.ring_id;
    this.cameraId = ring.camera_id;
    this.pc = null;
    this.session = null;
    this.answer = null;     // the gateway's answer: {session, talk, microphone, ...}
    this.micSender = null;  // talk's section, empty: a ring must not ask for the microphone
    this.stream = new MediaStream();
    this.closed = false;
    this.told = false;      // the gateway closed it itself, or is told to
    this.onState = () => {
      // The gateway ends a call whose connection fails (or never connects) on its own.
      if (["failed", "closed"].includes(this.pc?.connectionState)) this.close({ byGateway: true });
    };
    this.ready = this.connect().catch(() => { this.close(); return null; });
  }

  async connect() {
    const ice = await api("GET", "/api/live/ice");
    if (this.closed) return null;
    const pc = callPeer(ice);
    this.pc = pc;
    this.micSender = pc.addTransceiver("audio", { direction: "sendonly" }).sender;
    pc.addEventListener("track", (e) => this.stream.addTrack(e.track));
    pc.addEventListener("connectionstatechange", this.onState);
    const sdp = await completeOffer(pc);
    if (this.closed) return null;
    const answer = await api("POST", `/api/live/${encodeURIComponent(this.cameraId)}`,
      { sdp, ring_id: this.ringId, prepare: true });
    this.session = answer.session;
    this.answer = answer;
    if (this.closed) {  // closed while the gateway answered: tell it now
      if (!this.told) endSession(answer.session);
      return null;
    }
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    return this;
  }

  /** Close it here and, unless the gateway did already, there (idempotent). */
  close({ byGateway = false } = {}) {
    if (this.closed) return;
    this.closed = true;
    this.told = byGateway;
    if (pending === this) pending = null;
    for (const track of this.stream.getTracks()) track.stop();
    const pc = this.pc;
    pc?.removeEventListener("connectionstatechange", this.onState);
    // The gateway told first, then the connection closed: its audit says why the call ended.
    if (this.session && !byGateway) {
      this.told = true;
      endSession(this.session).finally(() => pc?.close());
    } else {
      pc?.close();
    }
  }
}

function mayPrepare(ring) {
  const { session, me, meta, cameras, call } = store.get();
  if (session !== "signed-in" || !me || !inHousehold(meta, me.role)) return false;
  const camera = cameras?.find((c) => c.id === ring.camera_id);
  if (!camera || camera.state !== "online" || !camera.streams?.length) return false;
  if (call?.camera_id === ring.camera_id) return false;  // in that call: Answer changes nothing
  return document.visibilityState === "visible" && typeof RTCPeerConnection === "function";
}

/** The ring banner shows `ring` ({ring_id, camera_id}): prepare its call, if this page may. */
export function prepareFor(ring) {
  if (!ring?.ring_id || tried.has(ring.ring_id) || !mayPrepare(ring)) return;
  tried.add(ring.ring_id);
  pending?.close();  // another ring's: its banner is gone
  pending = new PreparedCall(ring);
}

/** The ring is over here: someone answered it (then tell the gateway), or it ended (the
 * gateway closes its prepared calls itself). A call this page adopted is not touched. */
export function dropPrepared(ringId, { ended = false } = {}) {
  if (pending && pending.ringId === ringId) pending.close({ byGateway: ended });
}

/** The live view of `cameraId` opens: a promise of the call prepared for it (waiting for one
 * still being prepared), or of null. From here on it is the view's call, not the ring's. */
export function adoptPrepared(cameraId) {
  const call = pending;
  if (!call || call.cameraId !== cameraId) return null;
  pending = null;
  return call.ready.then((ready) => {
    if (!ready || call.closed) return null;
    call.pc.removeEventListener("connectionstatechange", call.onState);
    return call;
  });
}

window.addEventListener("pagehide", () => pending?.close());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    const ring = store.get().ring;
    if (ring) prepareFor(ring);  // a ring that came, or went on, while the page was hidden
  } else if (pending) {
    // Out of sight: the gateway counts every tab of this browser as one page (one sign-in), so
    // a call prepared here would refuse the Answer of the tab the person turns to instead.
    tried.delete(pending.ringId);
    pending.close();
  }
});
// Signed out: the gateway ends the calls of that sign-in itself.
store.subscribe((state) => { if (state.session !== "signed-in") pending?.close({ byGateway: true }); });
