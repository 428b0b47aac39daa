// One episode in the activity feed: what happened in words, where, when, for how long, with the
// camera's picture; the raw events it was made of fold out.
import { html, useState } from "../lib/html.js";
import { lasted } from "../lib/episodes.js";
import { duration, exactly, when } from "../lib/format.js";
import { href } from "../lib/router.js";
import { kindSentence } from "../lib/words.js";
import { Icon, kindIcon } from "./icons.js";
import { RawDetail } from "./ui.js";

/** The sentence for an episode: "Motion at Garden — 40 s". */
export function episodeSentence(meta, episode, name) {
  const base = kindSentence(meta, episode.kind, name);
  if (episode.ongoing) return `${base} — going on now`;
  const seconds = episode.kind === "doorbell" ? null : lasted(episode);
  return seconds ? `${base} — ${duration(seconds)}` : base;
}

/** The clip recorded during an episode: poster, and the video played in place on a click. */
function EpisodeClip({ clip, name }) {
  const [playing, setPlaying] = useState(false);
  if (playing) {
    return html`<video class="episode-thumb episode-video" src=${clip.video} controls autoplay muted playsinline
      poster=${clip.poster || undefined}></video>`;
  }
  return html`<button type="button" class="episode-thumb episode-play" data-clip=${clip.id}
      aria-label=${`Play the clip of ${name}`} onClick=${() => setPlaying(true)}>
    ${clip.poster ? html`<img src=${clip.poster} alt="" />` : null}
    <span class="play-mark" aria-hidden="true"><${Icon} name="play" size=${28} /></span>
  </button>`;
}

/** The episode's card (.episode[data-kind]); `thumb` is a picture URL or null, `clip` the clip
 * recorded meanwhile (shown instead, and played in place). */
export function EpisodeCard({ episode, meta, name, thumb, clip = null, compact = false }) {
  const ring = episode.kind === "doorbell";
  return html`<article class=${`episode${ring ? " is-ring" : ""}${compact ? " compact" : ""}`} data-kind=${episode.kind} data-camera=${episode.camera_id}>
    ${compact ? null : clip ? html`<${EpisodeClip} clip=${clip} name=${name} />` : thumb
      ? html`<img class="episode-thumb" src=${thumb} alt=${`Current view of ${name}`} />`
      : html`<div class="episode-thumb empty" aria-hidden="true"><${Icon} name=${kindIcon(episode.kind)} size=${26} /></div>`}
    <div class="episode-body">
      <p class="episode-what"><span class=${`kind-icon kind-${episode.kind}`}><${Icon} name=${kindIcon(episode.kind)} size=${18} /></span>
        <span>${episodeSentence(meta, episode, name)}</span></p>
      <p class="episode-when muted small"><time datetime=${new Date(episode.start).toISOString()} title=${exactly(episode.start)}>${when(new Date(episode.start))}</time>
        ${compact ? null : html` · <a href=${href("camera", episode.camera_id)}>${name}</a>`}
        ${episode.initial ? " · state when Doorstep connected" : ""}</p>
      <${RawDetail} summary=${`${episode.events.length} event${episode.events.length === 1 ? "" : "s"}${episode.sources.length > 1 ? ` from ${episode.sources.length} sources` : ""}`}>
        <ul class="raw-events">${episode.events.map((e) => html`<li>
          <code>${e.kind} ${e.active === null ? "happened" : e.active ? "started" : "ended"}${e.initial ? " (state)" : ""}</code>
          <span class="muted"> ${exactly(e.received_at)}${e.source ? ` · ${e.source}` : ""}</span></li>`)}</ul>
      </${RawDetail}>
    </div>
  </article>`;
}
