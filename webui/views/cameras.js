// Cameras: the grid (latest picture and state of each), and for the owner the ways to add one.
import { html, useState } from "../lib/html.js";
import { useInterval, useLoad } from "../lib/load.js";
import { loadCameras } from "../lib/session.js";
import { useStore } from "../lib/store.js";
import { CameraCard } from "../components/camera-card.js";
import { Empty, LoadFailed, Loading, PageHead } from "../components/ui.js";
import { AddCameras } from "./add-camera.js";

const SNAPSHOT_REFRESH_MS = 10000;

/** The cameras page. */
export function CamerasView() {
  const cameras = useStore((s) => s.cameras);
  const me = useStore((s) => s.me);
  const meta = useStore((s) => s.meta);
  const [stamp, setStamp] = useState(Date.now);
  const { error, reload } = useLoad((signal) => loadCameras(signal), []);  // fresh on every visit
  useInterval(() => { if (document.visibilityState === "visible") setStamp(Date.now()); }, SNAPSHOT_REFRESH_MS);
  const owner = me.role === "owner";
  const online = cameras ? cameras.filter((c) => c.state === "online").length : 0;
  let grid;
  if (cameras === null) grid = error ? html`<${LoadFailed} error=${error} retry=${reload} />` : html`<${Loading} />`;
  else if (!cameras.length) {
    grid = html`<${Empty} id="no-cameras" icon="camera" title=${owner ? "No cameras yet" : "No cameras are shared with you."}>
      ${owner ? "Adopt one found on your network, or add one with “Add a camera by address”." : "Ask the owner to share a camera with your account."}
    </${Empty}>`;
  } else {
    grid = html`<div class="grid">${cameras.map((c) => html`<${CameraCard} key=${c.id} camera=${c} meta=${meta} stamp=${stamp} />`)}</div>`;
  }
  const paused = (cameras || []).find((c) => c.recording && (c.recording.state === "paused" || c.recording.state === "error"));
  return html`<div class="page cameras">
    <${PageHead} title="Cameras" subtitle=${cameras && cameras.length ? `${online} of ${cameras.length} online` : null} />
    ${paused ? html`<p class="card alarm" role="alert" id="recording-alarm"><strong>${paused.recording.state === "paused" ? "Recording is paused" : "Recording has a problem"}:</strong>
      ${paused.recording.reason || "see the camera's page"}.${paused.recording.state === "paused" ? " Free some space, or release holds you no longer need; recording resumes by itself." : ""}</p>` : null}
    ${grid}
    ${owner ? html`<${AddCameras} onAdded=${() => loadCameras().catch(() => {})} />` : null}
  </div>`;
}
