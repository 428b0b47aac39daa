// The server-push stream (GET /api/events/stream): one per page, feeding the store and the
// listeners of each message kind. EventSource reconnects by itself; a refused stream (signed out,
// access withdrawn) is checked once and then reopened or left closed.
import { api } from "./api.js";
import { followServerRings, notice, onCameraEvent, onRingMessage } from "./ring.js";
import { emit, putCamera, store } from "./store.js";

const RECHECK_MS = 3000;

let source = null;
let retry = null;

function parse(message) {
  try { return JSON.parse(message.data); } catch { return null; }
}

function refetchCamera(id) {
  api("GET", `/api/cameras/${encodeURIComponent(id)}`).then(putCamera).catch(() => {});
}

function applyState(update) {
  const cameras = store.get().cameras;
  if (!cameras) return;
  const camera = cameras.find((c) => c.id === update.camera_id);
  if (!camera) { refetchCamera(update.camera_id); return; }  // adopted since the list was loaded
  putCamera({ ...camera, state: update.state, reason: update.reason });
  if (update.state === "online") refetchCamera(update.camera_id);  // streams, model, notes
}

/** Open the stream (once) for the signed-in household account. */
export function openStream() {
  if (source) return;
  clearTimeout(retry);
  const stream = new EventSource("/api/events/stream");
  source = stream;
  stream.addEventListener("camera-event", (message) => {
    const event = parse(message);
    if (!event) return;
    onCameraEvent(event);
    emit("camera-event", event);
  });
  stream.addEventListener("camera-state", (message) => {
    const update = parse(message);
    if (!update) return;
    applyState(update);
    emit("camera-state", update);
  });
  stream.addEventListener("ring", (message) => {
    const ring = parse(message);
    if (!ring) return;
    onRingMessage(ring);
    emit("ring", ring);
  });
  stream.addEventListener("share-access", (message) => {
    const access = parse(message);
    if (!access) return;
    const who = access.via === "link" ? "Someone with the link" : "A neighbour";
    notice(`${who} ${access.kind === "view" ? "watched" : "downloaded"} “${access.title}”`);
    emit("share-access", access);
  });
  // Rings going on now (a page opened mid-ring shows the banner); a gateway without ring
  // tracking answers 404 and the banner follows the presses themselves.
  api("GET", "/api/rings").then((answer) => followServerRings(answer.rings)).catch(() => {});
  stream.addEventListener("error", () => {
    if (stream.readyState !== EventSource.CLOSED || source !== stream) return;
    source = null;
    retry = setTimeout(recheck, RECHECK_MS);
  });
}

async function recheck() {
  try {
    await api("GET", "/api/session");  // a 401 signs the page out (api.js tells the app)
    if (store.get().session === "signed-in") openStream();
  } catch (err) {
    if (err.status !== 401 && err.status !== 403) retry = setTimeout(recheck, RECHECK_MS * 3);
  }
}

/** Close the stream (sign-out). */
export function closeStream() {
  clearTimeout(retry);
  if (source) source.close();
  source = null;
}

/** Whether a stream is open or opening. */
export function streamOpen() {
  return source !== null;
}
