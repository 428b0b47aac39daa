// The live view: the camera's video and sound, push-to-talk, mute, fullscreen, a call timer and
// who else is in the call. The call lives exactly as long as this view; one prepared while the
// doorbell rang is adopted (and answered) instead of made anew.
import { api } from "../lib/api.js";
import { html, useEffect, useLayoutEffect, useRef, useState } from "../lib/html.js";
import { clock } from "../lib/format.js";
import { CALL_STATES, LiveCall } from "../lib/live-call.js";
import { useInterval, useLoad } from "../lib/load.js";
import { adoptPrepared } from "../lib/prepared-call.js";
import { go, href } from "../lib/router.js";
import { findCamera } from "../lib/session.js";
import { store, useStore } from "../lib/store.js";
import { Icon } from "../components/icons.js";
import { LoadFailed, Loading } from "../components/ui.js";
import { NoSuchCamera } from "./camera.js";

const CALLS_EVERY_MS = 5000;

function useFullscreen(ref) {
  const [on, setOn] = useState(false);
  useEffect(() => {
    const update = () => setOn(document.fullscreenElement === ref.current && ref.current !== null);
    document.addEventListener("fullscreenchange", update);
    return () => document.removeEventListener("fullscreenchange", update);
  }, []);
  const toggle = async () => {
    try {
      if (document.fullscreenElement) await document.exitFullscreen();
      else if (ref.current?.requestFullscreen) await ref.current.requestFullscreen({ navigationUI: "hide" });
      else ref.current?.querySelector("video")?.webkitEnterFullscreen?.();  // iPhone: the video alone
    } catch { /* refused (not from a click, or not allowed here) */ }
  };
  const possible = document.fullscreenEnabled || "webkitEnterFullscreen" in HTMLVideoElement.prototype;
  return [on, toggle, possible];
}

function Others({ cameraId, me, connected }) {
  const [people, setPeople] = useState([]);
  const load = () => api("GET", `/api/live/calls?camera_id=${encodeURIComponent(cameraId)}`)
    .then((answer) => setPeople(answer.calls[0]?.participants || [])).catch(() => {});
  useEffect(() => { if (connected) load(); }, [connected]);
  useInterval(load, connected ? CALLS_EVERY_MS : null, [connected]);
  const others = people.filter((p) => p.username !== me.username).map((p) => p.username);
  if (!others.length) return null;
  return html`<p class="call-others"><${Icon} name="users" size=${18} /><span>Also in the call: ${others.join(", ")}</span></p>`;
}

function Call({ camera, me }) {
  const video = useRef(null);
  const frame = useRef(null);
  const call = useRef(null);
  const [state, setState] = useState("new");
  const [note, setNote] = useState("");
  const [talk, setTalk] = useState({ label: "Hold to talk", disabled: true, talking: false });
  const [muted, setMuted] = useState(false);
  const [connectedAt, setConnectedAt] = useState(null);
  const [now, setNow] = useState(Date.now);
  const [fullscreen, toggleFullscreen, canFullscreen] = useFullscreen(frame);
  // A layout effect: the call starts as this view is drawn, not a frame later (Answer's video).
  useLayoutEffect(() => {
    const ui = {
      get video() { return video.current; },
      state: (s) => { setState(s); if (s === "connected") setConnectedAt((t) => t ?? Date.now()); },
      note: (text) => setNote(text || ""),
      talk: (t) => setTalk({ talking: false, ...t }),
    };
    const ring = store.get().answering;
    const ringId = ring && ring.camera_id === camera.id ? ring.ring_id : null;
    const current = new LiveCall(camera.id, ui, ringId, adoptPrepared(camera.id));
    call.current = current;
    store.set({ call: { camera_id: camera.id }, answering: null });
    current.start().catch((err) => { if (!current.ended) { setState("failed"); setNote(err.message); } });
    return () => {
      current.hangUp();
      if (store.get().call?.camera_id === camera.id) store.set({ call: null });
    };
  }, [camera.id]);
  useInterval(() => setNow(Date.now()), connectedAt && state !== "closed" ? 1000 : null, [connectedAt, state]);
  const hangUp = async () => {
    await call.current.release();
    await call.current.hangUp();
    go(href("camera", camera.id));
  };
  const toggleMute = () => {
    video.current.muted = !video.current.muted;
    setMuted(video.current.muted);
  };
  const press = (e) => { e.preventDefault(); e.currentTarget.setPointerCapture?.(e.pointerId); call.current.press(); };
  const release = () => call.current.release();
  const key = (down) => (e) => {
    if (e.key !== " " && e.key !== "Enter") return;
    e.preventDefault();
    if (down && !e.repeat) call.current.press();
    if (!down) call.current.release();
  };
  const timer = connectedAt ? clock((now - connectedAt) / 1000) : "0:00";
  return html`<div class="live">
    <div class="live-head">
      <a class="back" href=${href("camera", camera.id)} aria-label=${`Back to ${camera.name}`}><${Icon} name="back" size=${20} /></a>
      <h1>${camera.name}</h1>
      <span class="live-status" role="status" data-state=${state}>${CALL_STATES[state] || state}</span>
      <span class="call-timer" aria-label="Call time"><time>${timer}</time></span>
    </div>
    <div class=${`live-frame${fullscreen ? " is-fullscreen" : ""}`} ref=${frame}>
      <video class="live-video" ref=${video} autoplay playsinline aria-label=${`Live view of ${camera.name}`}></video>
      <div class="frame-overlay">
        <span class="frame-status" data-state=${state}>${CALL_STATES[state] || state} · ${timer}</span>
        ${canFullscreen ? html`<button type="button" class="frame-button" id="fullscreen" onClick=${toggleFullscreen}
          aria-label=${fullscreen ? "Leave full screen" : "Full screen"}><${Icon} name=${fullscreen ? "shrink" : "expand"} /></button>` : null}
      </div>
    </div>
    <div class="live-side">
      <div class="live-controls">
        <button type="button" id="talk" class=${`talk${talk.talking ? " talking" : ""}`} disabled=${talk.disabled}
          onPointerDown=${press} onPointerUp=${release} onPointerCancel=${release} onLostPointerCapture=${release}
          onKeyDown=${key(true)} onKeyUp=${key(false)} onContextMenu=${(e) => e.preventDefault()}
          ><${Icon} name="mic" /><span>${talk.label}</span></button>
        <button type="button" id="mute" class="secondary" aria-pressed=${muted ? "true" : "false"} onClick=${toggleMute}
          ><${Icon} name=${muted ? "muted" : "sound"} /><span>${muted ? "Unmute sound" : "Mute sound"}</span></button>
        <button type="button" id="hangup" class="danger" onClick=${hangUp}><${Icon} name="hangup" /><span>Hang up</span></button>
      </div>
      <${Others} cameraId=${camera.id} me=${me} connected=${state === "connected"} />
      <p class="muted small live-note" role="status">${note}</p>
    </div>
  </div>`;
}

/** The live page for camera `id`. */
export function LiveView({ id }) {
  const me = useStore((s) => s.me);
  const stored = useStore((s) => s.cameras?.find((c) => c.id === id) || null);
  const loaded = useLoad((signal) => (stored ? Promise.resolve(stored) : findCamera(id, signal)), [id]);
  const camera = stored || loaded.data;
  if (loaded.error?.status === 404) return html`<${NoSuchCamera} />`;
  if (!camera) return loaded.error ? html`<${LoadFailed} error=${loaded.error} retry=${loaded.reload} />` : html`<${Loading} />`;
  return html`<${Call} camera=${camera} me=${me} />`;
}
