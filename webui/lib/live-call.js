// One WebRTC call to a camera (WHEP-style signalling) with push-to-talk. The view owns it: it
// is hung up when the view unmounts, so leaving the page ends the call and frees the microphone.
// A call prepared while the doorbell rang (prepared-call.js) is adopted instead of made anew.
import { api } from "./api.js";

const GATHER_TIMEOUT_MS = 2000;
const STREAM_CHECK_MS = 2000;  // how often the call asks whether the camera's stream opens
const TALK_CHECK_MS = 1000;

/** The words for a call's state. */
export const CALL_STATES = {
  new: "Connecting…", connecting: "Connecting…", connected: "Live",
  disconnected: "Connection interrupted…", failed: "Connection lost", closed: "Call ended",
  "stream-unreachable": "Camera stream unreachable",
};

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

/** A peer connection for a call (the gateway's ICE servers), receiving the camera's video and
 * sound; the microphone's section is added by the caller. */
export function callPeer(ice) {
  const pc = new RTCPeerConnection({ iceServers: ice.ice_servers.map(({ urls, username, credential }) =>
    username ? { urls, username, credential } : { urls }) });
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.addTransceiver("audio", { direction: "recvonly" });
  return pc;
}

/** The complete offer, every candidate in it (the gateway takes no trickled ones). */
export async function completeOffer(pc) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  return pc.localDescription.sdp;
}

/** Hang a call up on the server; keepalive lets the request outlive the page. */
export function endSession(session) {
  return fetch(`/api/live/session/${encodeURIComponent(session)}`, { method: "DELETE", keepalive: true,
    credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: "{}" }).catch(() => {});
}

let current = null;  // the call on screen: a page closing hangs it up
window.addEventListener("pagehide", () => current?.hangUp());

/**
 * A call. `ui` receives what to show: state(name), note(text), talk({label, disabled, talking}),
 * and `ui.video` is the <video> element. `prepared`: a promise of the call prepared for the
 * camera's ring (or of null), adopted when it is ready; without one the call is made anew.
 */
export class LiveCall {
  constructor(cameraId, ui, ringId = null, prepared = null) {
    this.cameraId = cameraId;
    this.ringId = ringId;  // the ring this call answers (the banner's Answer)
    this.prepared = prepared;
    this.ui = ui;
    this.pc = null;
    this.session = null;
    this.mic = null;
    this.micSender = null;
    this.talkWatch = null;
    this.streamWatch = null;
    this.presses = 0;
    this.talking = false;
    this.ended = false;
    this.streamError = null;  // why the gateway cannot open the camera's stream, while it cannot
    this.lastPlayed = 0;
    current?.hangUp();
    current = this;
  }

  async start() {
    const prepared = this.prepared ? await this.prepared : null;
    if (prepared && this.ended) { prepared.close(); return; }
    if (prepared && await this.adopt(prepared)) return;
    if (this.ended) return;
    const asking = microphone();  // the permission prompt and the request, side by side
    let ice;
    try {
      ice = await api("GET", "/api/live/ice");
    } catch (err) {
      (await asking).track?.stop();  // no call: give the microphone back at once
      throw err;
    }
    const { track, reason } = await asking;
    if (this.ended) { track?.stop(); return; }
    this.mic = track;
    const pc = callPeer(ice);
    this.pc = pc;
    if (track) {
      track.enabled = false;  // push-to-talk: silent until Talk is held
      this.micSender = pc.addTransceiver(track, { direction: "sendonly" }).sender;
    }
    const remote = new MediaStream();
    pc.addEventListener("track", (e) => {
      remote.addTrack(e.track);
      if (this.ui.video) this.ui.video.srcObject = remote;
    });
    pc.addEventListener("connectionstatechange", () => this.showState());
    this.ui.state("connecting");
    const sdp = await completeOffer(pc);
    if (this.ended) return;
    const offer = { sdp };
    if (this.ringId) offer.ring_id = this.ringId;
    const answer = await api("POST", `/api/live/${encodeURIComponent(this.cameraId)}`, offer);
    this.session = answer.session;
    if (this.ended) { await this.hangUp(); return; }
    // The call can connect while the gateway cannot reach the camera's stream: say so.
    this.checkStream();
    this.streamWatch = setInterval(() => this.checkStream(), STREAM_CHECK_MS);
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    // Nothing of the microphone leaves the phone until Talk is held (not even silence, which
    // the gateway would have to decode for every viewer).
    if (this.micSender && !this.talking) await this.micSender.replaceTrack(null);
    this.showTalk(answer, reason);
  }

  /** Take over the call prepared for the ring (connected, media paused) and answer it: the
   * gateway starts the video at once from its latest keyframe. False when it ended meanwhile
   * (its ring ended): then the call is made anew. */
  async adopt(prepared) {
    const { pc } = prepared;
    this.pc = pc;
    this.session = prepared.session;
    this.micSender = prepared.micSender;  // talk's section, no microphone in it yet
    pc.addEventListener("connectionstatechange", () => this.showState());
    if (this.ui.video) this.ui.video.srcObject = prepared.stream;
    this.showState();
    try {
      await api("POST", `/api/live/session/${encodeURIComponent(prepared.session)}/answer`);
    } catch (err) {
      if (this.ended) return true;
      if (err.status !== 404) endSession(prepared.session);  // 404: the gateway closed it
      pc.close();
      if (this.ui.video) this.ui.video.srcObject = null;
      Object.assign(this, { pc: null, session: null, micSender: null });
      return false;
    }
    if (this.ended) return true;
    this.checkStream();
    this.streamWatch = setInterval(() => this.checkStream(), STREAM_CHECK_MS);
    // The microphone only now: a ring must not prompt for it. Talk swaps it into its section.
    const { track, reason } = await microphone();
    if (this.ended) { track?.stop(); return true; }
    if (track) track.enabled = false;
    this.mic = track;
    this.showTalk(prepared.answer, reason);
    return true;
  }

  /** What Talk can do in this call: the gateway's answer, and whether there is a microphone. */
  showTalk(answer, reason) {
    if (answer.talk === false) {
      this.ui.talk({ label: "This camera has no speaker", disabled: true });
      this.ui.note("Talk needs a camera with an audio backchannel.");
    } else if (!answer.microphone || !this.mic) {
      this.ui.talk({ label: "Talk unavailable", disabled: true });
      this.ui.note(`Talk unavailable: ${reason || "microphone not available"}.`);
    } else {
      this.ui.talk({ label: "Hold to talk", disabled: false });
    }
  }

  /** The peer connection's state, unless the camera's stream is what fails. */
  showState() {
    const state = this.pc ? this.pc.connectionState : "new";
    const live = ["new", "connecting", "connected"].includes(state);
    if (this.ended) return;
    this.ui.state(this.streamError && live ? "stream-unreachable" : state);
  }

  async checkStream() {
    // While video plays and nothing is wrong, there is nothing to ask: frames are the answer.
    const video = this.ui.video;
    const played = video ? video.currentTime : 0;
    const flowing = video && played > this.lastPlayed && !video.paused;
    this.lastPlayed = played;
    if (flowing && !this.streamError) return;
    let camera;
    try { camera = await api("GET", `/api/cameras/${encodeURIComponent(this.cameraId)}`); } catch { return; }
    if (this.ended) return;
    const error = camera.stream_error || null;
    if (error === this.streamError) return;
    if (error) this.ui.note(`The gateway cannot open this camera's stream: ${error}. It keeps trying.`);
    else if (this.streamError) this.ui.note("");
    this.streamError = error;
    this.showState();
  }

  /** Talk pressed: open the camera's speaker, then send the microphone. */
  async press() {
    if (this.talking || !this.session || !this.mic) return;
    this.talking = true;
    this.presses += 1;
    this.ui.talk({ label: "Talking… release to stop", disabled: false, talking: true });
    try {
      await api("POST", `/api/live/session/${this.session}/talk`);
      if (this.talking) {
        await this.micSender.replaceTrack(this.mic);
        this.mic.enabled = this.talking;  // unless released meanwhile
        clearInterval(this.talkWatch);
        this.talkWatch = setInterval(() => this.checkTalk(), TALK_CHECK_MS);
      } else {
        await this.sendRelease();  // released before the speaker opened
      }
    } catch (err) {
      this.talking = false;
      this.resetTalk();
      this.ui.note(err.message);
    }
  }

  /** Talk released. */
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
    this.resetTalk();
  }

  /** While Talk is held: did the camera drop its speaker? Then stop showing "Talking". */
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

  resetTalk() {
    if (!this.ended) this.ui.talk({ label: "Hold to talk", disabled: false, talking: false });
  }

  /** End the call: the server's side at once (keepalive survives leaving the page), then ours. */
  async hangUp() {
    if (this.ended) return;
    this.ended = true;
    if (current === this) current = null;
    clearInterval(this.talkWatch);
    clearInterval(this.streamWatch);
    const session = this.session;
    this.session = null;
    if (this.mic) this.mic.stop();
    if (session) await endSession(session);
    if (this.pc) this.pc.close();
    if (this.ui.video) this.ui.video.srcObject = null;
    this.ui.state("closed");
  }
}
