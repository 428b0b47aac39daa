// The doorbell ring across every page: shown on a press (or the server's `ring` message), gone
// when someone answers ("Answered by Alice") or the ring ends; with a chime and, while the tab is
// hidden, a system notification (when the person allowed them). While it shows, the call is
// prepared in the background (prepared-call.js) so that Answer shows the visitor at once.
import { dropPrepared, prepareFor } from "./prepared-call.js";
import { href } from "./router.js";
import { startRingtone, stopRingtone } from "./ringtone.js";
import { store } from "./store.js";

const SHOW_MS = 60000;    // without an `ended` from the server, a banner goes after a minute
const NOTICE_MS = 5000;
const TITLE = "Someone is at the door";

let timer = null;
let fromServer = false;  // the gateway tracks rings (GET /api/rings answered): follow its messages
const dismissed = new Set();  // ring ids dismissed here or over: a repeated `ringing` stays away

/** The gateway tracks rings: banners follow its `ring` messages, not the raw presses (a press
 * during an answered call belongs to that ring, and must not raise a banner of its own). */
export function followServerRings(active) {
  fromServer = true;
  for (const ring of active) onRingMessage(ring);
}

/** The camera's name from the store (its id until the list is loaded). */
export function cameraName(id) {
  return store.get().cameras?.find((c) => c.id === id)?.name || id;
}

/** A pushed camera event: a doorbell press starts a ring (unless one shows for that camera). */
export function onCameraEvent(event) {
  if (fromServer || event.kind !== "doorbell" || event.active !== true || event.initial) return;
  const current = store.get().ring;
  if (current && current.camera_id === event.camera_id) return;
  show({ camera_id: event.camera_id, ring_id: null, started_at: event.received_at });
}

function isCurrent(current, message) {
  if (!current) return false;
  if (current.ring_id !== null) return current.ring_id === message.ring_id;
  return current.camera_id === message.camera_id;
}

/** A pushed `ring` message: {ring_id, camera_id, state: ringing|answered|ended, answered_by}. */
export function onRingMessage(message) {
  fromServer = true;
  const current = store.get().ring;
  if (message.state === "ringing") {
    if (dismissed.has(message.ring_id)) return;
    if (current && current.camera_id === message.camera_id && (current.ring_id === null || current.ring_id === message.ring_id)) {
      store.set({ ring: { ...current, ring_id: message.ring_id } });  // the press we already show
    } else {
      show({ camera_id: message.camera_id, ring_id: message.ring_id, started_at: message.started_at });
    }
    prepareFor(store.get().ring);
    return;
  }
  dismissed.add(message.ring_id);  // over: a late `ringing` (from GET /api/rings) stays away
  // Answered elsewhere: close this page's prepared call; ended: the gateway closed it.
  dropPrepared(message.ring_id, { ended: message.state === "ended" });
  if (!isCurrent(current, message)) return;
  clearRing();
  const inThatCall = store.get().call?.camera_id === message.camera_id;
  if (message.state === "answered" && message.answered_by && !inThatCall) notice(`Answered by ${message.answered_by}`);
}

/** The person closed the banner on this page. */
export function dismissRing() {
  const current = store.get().ring;
  if (current?.ring_id) dismissed.add(current.ring_id);
  if (current?.ring_id) dropPrepared(current.ring_id);
  clearRing();
}

/** Remove the banner, its chime and its notification (the prepared call stays: Answer clears
 * the banner too, and the live view adopts the call). */
export function clearRing() {
  const current = store.get().ring;
  clearTimeout(timer);
  stopRingtone();
  if (current) store.set({ ring: null });
  if (current) closeNotification(current.camera_id);
}

/** A short message shown over every page for a few seconds. */
export function notice(text) {
  const id = Date.now() + Math.random();
  store.set({ notice: { text, id } });
  setTimeout(() => { if (store.get().notice?.id === id) store.set({ notice: null }); }, NOTICE_MS);
}

function show(ring) {
  store.set({ ring: { ...ring, state: "ringing" } });
  clearTimeout(timer);
  timer = setTimeout(() => {
    const current = store.get().ring;
    if (current?.ring_id) dropPrepared(current.ring_id);
    clearRing();
  }, SHOW_MS);
  startRingtone();
  systemNotification(ring).catch(() => {});
}

const tag = (cameraId) => `ring-${cameraId}`;

async function workerRegistration() {
  if (!("serviceWorker" in navigator)) return null;
  return (await navigator.serviceWorker.getRegistration("/")) || null;
}

async function systemNotification(ring) {
  if (document.visibilityState !== "hidden" || !("Notification" in window) || Notification.permission !== "granted") return;
  const url = `/${href("live", ring.camera_id)}`;
  const options = { body: cameraName(ring.camera_id), tag: tag(ring.camera_id), renotify: true,
    requireInteraction: true, icon: "/static/icon-192.png", data: { url, camera_id: ring.camera_id, kind: "ring" } };
  const registration = await workerRegistration().catch(() => null);
  if (registration) { await registration.showNotification(TITLE, options); return; }
  const shown = new Notification(TITLE, options);  // no service worker: a page notification
  shown.addEventListener("click", () => { window.focus(); location.hash = href("live", ring.camera_id); shown.close(); });
}

async function closeNotification(cameraId) {
  const registration = await workerRegistration().catch(() => null);
  if (!registration) return;
  for (const shown of await registration.getNotifications({ tag: tag(cameraId) })) shown.close();
}
