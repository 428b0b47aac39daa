// One camera in the grid: its picture, name, state in plain words, and the raw reason folded away.
import { html } from "../lib/html.js";
import { href } from "../lib/router.js";
import { stateWords } from "../lib/words.js";
import { Icon } from "./icons.js";
import { Snapshot } from "./snapshot.js";
import { RawDetail, StateBadge } from "./ui.js";

/** A camera card (.camera[data-camera]). */
const RECORDING_WORDS = {
  recording: ["Recording", "tone-bad"], idle: ["Ready to record", "tone-off"],
  paused: ["Recording paused", "tone-pending"], error: ["Not recording", "tone-bad"],
};

/** The recorder's state as a small line ("Recording", "Recording paused: disk full"). */
export function RecordingLine({ recording }) {
  if (!recording || recording.state === "off") return null;
  const [label, tone] = RECORDING_WORDS[recording.state] || [recording.state, "tone-off"];
  return html`<p class="recording-line small" data-recording=${recording.state}>
    <span class=${`state ${tone}`}><span class="state-dot" aria-hidden="true"></span>${label}</span>
    ${recording.reason ? html` <span class="muted">${recording.reason}</span>` : null}</p>`;
}

export function CameraCard({ camera, meta, stamp }) {
  const words = stateWords(meta, camera);
  const canWatch = camera.state === "online" && camera.streams.length > 0;
  return html`<article class="camera card" data-camera=${camera.id}>
    <a class="camera-link" href=${href("camera", camera.id)}>
      <${Snapshot} camera=${camera} stamp=${stamp} label=${words.label} />
      <span class="camera-name name">${camera.name}</span>
    </a>
    <div class="camera-row">
      <${StateBadge} state=${camera.state} label=${words.label} tone=${words.tone} />
      ${canWatch ? html`<a class="button small" href=${href("live", camera.id)} aria-label=${`Watch ${camera.name} live`}>
        <${Icon} name="live" size=${18} /><span>Live</span></a>` : null}
    </div>
    ${camera.state === "online" ? null : html`<p class="camera-sentence">${words.sentence}</p>`}
    <${RecordingLine} recording=${camera.recording} />
    ${camera.reason ? html`<${RawDetail} summary="What went wrong, exactly"><code>${camera.reason}</code></${RawDetail}>` : null}
  </article>`;
}
