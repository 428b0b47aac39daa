// A camera's latest picture, or a placeholder that says why there is none (it stays inside its
// frame: fixed aspect ratio, text wrapped).
import { html, useEffect, useState } from "../lib/html.js";
import { Icon } from "./icons.js";

/** The snapshot URL of a camera; `stamp` makes a new one (the server never caches it). */
export function snapshotUrl(cameraId, stamp) {
  return `/api/cameras/${encodeURIComponent(cameraId)}/snapshot?t=${stamp}`;
}

/** Whether a camera can give a snapshot now. */
export function hasSnapshot(camera) {
  return camera.state === "online" && camera.capabilities.includes("snapshot");
}

/** The picture (img.thumb) or the placeholder (.thumb.empty). */
export function Snapshot({ camera, stamp, label, class: className = "" }) {
  const [failed, setFailed] = useState(false);
  useEffect(() => setFailed(false), [camera.id, camera.state]);
  if (!hasSnapshot(camera) || failed) {
    const why = failed ? "No picture right now" : camera.state === "online" ? "This camera gives no snapshots" : label;
    return html`<div class=${`thumb empty ${className}`} role="img" aria-label=${`${camera.name}: ${why}`}>
      <${Icon} name=${camera.state === "online" ? "camera" : "offline"} size=${28} /><span>${why}</span></div>`;
  }
  return html`<img class=${`thumb ${className}`} src=${snapshotUrl(camera.id, stamp)} alt=${`Latest view of ${camera.name}`}
    decoding="async" onError=${() => setFailed(true)} />`;
}
