// A share as its watchers see it (the link's page and a neighbour's feed): title, category,
// the coarse place, times to the minute, and each clip with a player and a download link.
import { html, useState } from "../lib/html.js";

export const CATEGORY_WORDS = {
  package_theft: "Package theft",
  suspicious_activity: "Suspicious activity",
  lost_pet: "Lost pet",
  vehicle: "Vehicle",
  other: "Other",
};

const minute = (iso) => new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });

function Clip({ item, onEnded }) {
  const [failed, setFailed] = useState(false);
  // Is the share still open? (HEAD counts no view.) Asked when the video fails, and when it
  // is played or sought: an ended share is said so, not left as a frozen picture.
  const open = async () => {
    try {
      const response = await fetch(item.video, { method: "HEAD", credentials: "same-origin", referrerPolicy: "no-referrer" });
      if (response.status === 404) onEnded();
      return response.ok;
    } catch { return false; }
  };
  const check = async () => { if (await open() === true) setFailed(true); };
  return html`<figure class="shared-clip">
    <video controls playsinline preload="metadata" poster=${item.poster} src=${item.video}
      onError=${check} onPlay=${open} onSeeking=${open} aria-label=${`Clip ${item.position + 1}`}></video>
    <figcaption>
      <span>Recorded ${minute(item.recorded_at)} · ${Math.max(1, Math.floor(item.duration_s))} s${item.has_audio ? "" : " · no sound"}</span>
      <a href=${`${item.video}?download=1`} download>Download</a>
    </figcaption>
    ${failed && html`<p class="error" role="alert">The clip could not be played. Try again later.</p>`}
  </figure>`;
}

/** One share; `onEnded` is told when the gateway says the share is over. */
export function SharedClips({ share, onEnded }) {
  const place = share.place;
  return html`<article class="shared">
    <header>
      <p class="shared-category">${CATEGORY_WORDS[share.category] || "Shared clip"}</p>
      <h1>${share.title}</h1>
      ${share.household && html`<p class="shared-from">From ${share.household}</p>`}
    </header>
    ${share.description && html`<p class="shared-description">${share.description}</p>`}
    <dl class="shared-facts">
      <dt>Where</dt><dd>${place ? `${place.label || "Near the sender"} (an area of about ${place.area_km2} km²)` : "Not given"}</dd>
      <dt>Shared until</dt><dd>${minute(share.expires_at)}</dd>
    </dl>
    ${share.items.map((item) => html`<${Clip} key=${item.position} item=${item} onEnded=${onEnded} />`)}
  </article>`;
}
