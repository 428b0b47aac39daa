// A camera's page: its picture and state, what it is and offers, its recent activity, and for
// the owner, removing it.
import { api } from "../lib/api.js";
import { html, useMemo, useState } from "../lib/html.js";
import { episodes } from "../lib/episodes.js";
import { useInterval, useLoad } from "../lib/load.js";
import { go, href } from "../lib/router.js";
import { findCamera, loadCameras } from "../lib/session.js";
import { useListen, useStore } from "../lib/store.js";
import { capabilityWords, stateWords, streamWords } from "../lib/words.js";
import { EpisodeCard } from "../components/episode-card.js";
import { useConfirm } from "../components/dialogs.js";
import { Icon } from "../components/icons.js";
import { Snapshot } from "../components/snapshot.js";
import { Empty, ErrorText, LoadFailed, Loading, PageHead, RawDetail, StateBadge } from "../components/ui.js";
import { CameraSettingsCard } from "./camera-settings.js";
import { CameraClips } from "./clips.js";

const SNAPSHOT_REFRESH_MS = 10000;

/** "No such camera" (also for one that is not shared with this account). */
export function NoSuchCamera() {
  return html`<div class="page"><${PageHead} title="Not found" />
    <${Empty} icon="camera" title="No such camera, or it is not shared with you.">
      <a href="#/cameras">Back to the cameras</a></${Empty}></div>`;
}

function clockWords(offset) {
  if (Math.abs(offset) < 0.5) return "In step with the gateway";
  return `${Math.abs(offset).toFixed(1)} s ${offset > 0 ? "ahead of" : "behind"} the gateway's`;
}

function Facts({ camera, meta }) {
  const device = [camera.manufacturer, camera.model, camera.firmware].filter(Boolean).join(" · ");
  return html`<dl class="facts">
    <dt>Device</dt><dd>${device || "unknown"}</dd>
    <dt>Address</dt><dd>${camera.host}${camera.port ? `:${camera.port}` : ""} (${camera.driver})</dd>
    <dt>Offers</dt><dd>${capabilityWords(meta, camera.capabilities)}</dd>
    <dt>Talk</dt><dd>${camera.talk === true ? "Yes, it has a speaker" : camera.talk === false ? "No speaker: watch and listen only" : "Not known until someone tries"}</dd>
    <dt>Streams</dt><dd>${camera.streams.length ? html`<ul class="plain">${camera.streams.map((s) => html`<li><strong>${s.name}</strong> ${streamWords(s)}</li>`)}</ul>` : "none"}</dd>
    ${camera.stream_error ? html`<dt>Stream problem</dt><dd class="error-text" id="stream-error">${camera.stream_error}</dd>` : null}
    ${camera.clock_offset_s != null ? html`<dt>Camera clock</dt><dd>${clockWords(camera.clock_offset_s)}</dd>` : null}
    ${camera.notes?.length ? html`<dt>Notes</dt><dd id="camera-notes"><ul class="notes">${camera.notes.map((n) => html`<li>${n}</li>`)}</ul></dd>` : null}
  </dl>`;
}

function Recent({ camera, meta }) {
  const [extra, setExtra] = useState([]);
  const { data, error } = useLoad((signal) => api("GET", `/api/events?camera=${encodeURIComponent(camera.id)}&limit=60`, undefined, { signal }), [camera.id]);
  useListen("camera-event", (e) => { if (e.camera_id === camera.id) setExtra((list) => [e, ...list].slice(0, 200)); }, [camera.id]);
  const list = useMemo(() => episodes([...extra, ...(data ? data.events : [])]).slice(0, 8), [data, extra]);
  return html`<section class="card">
    <h2><${Icon} name="activity" /> Recent activity</h2>
    <${ErrorText} error=${error} />
    ${!data && !error ? html`<${Loading} />` : list.length
      ? html`<div class="episodes compact">${list.map((e) => html`<${EpisodeCard} key=${e.key} episode=${e} meta=${meta} name=${camera.name} compact=${true} />`)}</div>`
      : html`<p class="muted">Nothing yet.</p>`}
    <p><a href=${`#/activity/${encodeURIComponent(camera.id)}`}>All activity of ${camera.name}</a></p>
  </section>`;
}

/** The camera page for `id`. */
export function CameraView({ id }) {
  const me = useStore((s) => s.me);
  const meta = useStore((s) => s.meta);
  const stored = useStore((s) => s.cameras?.find((c) => c.id === id) || null);
  const loaded = useLoad((signal) => findCamera(id, signal), [id]);
  const [dialog, ask] = useConfirm();
  const [removeError, setRemoveError] = useState(null);
  const [stamp, setStamp] = useState(Date.now);
  useInterval(() => { if (document.visibilityState === "visible") setStamp(Date.now()); }, SNAPSHOT_REFRESH_MS);
  const camera = stored || loaded.data;
  if (loaded.error?.status === 404) return html`<${NoSuchCamera} />`;
  if (!camera) return loaded.error ? html`<${LoadFailed} error=${loaded.error} retry=${loaded.reload} />` : html`<${Loading} />`;
  const words = stateWords(meta, camera);
  const canWatch = camera.state === "online" && camera.streams.length > 0;
  const remove = async () => {
    const ok = await ask({ title: `Remove ${camera.name}?`, confirm: "Remove camera",
      text: "Doorstep stops using it and forgets its address, password and activity. You can add it again later." });
    if (!ok) return;
    try {
      await api("DELETE", `/api/cameras/${encodeURIComponent(id)}`);
      await loadCameras().catch(() => {});
      go("#/cameras");
    } catch (err) {
      setRemoveError(err);
    }
  };
  return html`<div class="page camera-page">
    <a class="back" href="#/cameras"><${Icon} name="back" size=${18} /> Cameras</a>
    <${PageHead} title=${camera.name}>
      <${StateBadge} state=${camera.state} label=${words.label} tone=${words.tone} />
      <a class="button" id="live" href=${href("live", id)} aria-disabled=${canWatch ? null : "true"}
        onClick=${(e) => { if (!canWatch) e.preventDefault(); }}><${Icon} name="live" /><span>Live</span></a>
    </${PageHead}>
    <div class="camera-layout">
      <div class="camera-main">
        <${Snapshot} camera=${camera} stamp=${stamp} label=${words.label} class="large" />
        ${camera.state === "online" ? null : html`<div class="card state-card">
          <p class="camera-sentence">${words.sentence}</p>
          ${camera.reason ? html`<${RawDetail} summary="What went wrong, exactly"><code>${camera.reason}</code></${RawDetail}>` : null}
        </div>`}
        <${CameraClips} camera=${camera} meta=${meta} />
        <${Recent} camera=${camera} meta=${meta} />
      </div>
      <div class="camera-side">
        <section class="card"><h2><${Icon} name="camera" /> About this camera</h2><${Facts} camera=${camera} meta=${meta} /></section>
        ${me.role === "owner" ? html`<${CameraSettingsCard} cameraId=${id} />` : null}
        ${me.role === "owner" ? html`<section class="card">
          <h2><${Icon} name="trash" /> Remove</h2>
          <p class="muted small">Doorstep stops using this camera and forgets its activity.</p>
          <button type="button" class="danger" onClick=${remove}>Remove camera</button>
          <${ErrorText} error=${removeError} />
        </section>` : null}
      </div>
    </div>
    ${dialog}
  </div>`;
}
