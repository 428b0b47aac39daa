// A neighbour account's one page: the shares addressed to it. Opening one counts a view.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { exactly } from "../lib/format.js";
import { useLoad } from "../lib/load.js";
import { CATEGORY_WORDS, SharedClips } from "../components/shared-clips.js";
import { Empty, ErrorText, LoadFailed, Loading, PageHead } from "../components/ui.js";

/** "Shared with me". */
export function SharedView() {
  const { data, error, reload } = useLoad((signal) => api("GET", "/api/shared", undefined, { signal }));
  const [opened, setOpened] = useState(null);
  const [problem, setProblem] = useState(null);
  const open = async (id) => {
    setProblem(null);
    try { setOpened(await api("GET", `/api/shared/${encodeURIComponent(id)}`)); } catch (err) { setProblem(err); reload(); }
  };
  if (opened) {
    return html`<section class="shared-with-me">
      <button type="button" class="ghost" onClick=${() => { setOpened(null); reload(); }}>Back to the list</button>
      ${opened.status === "preparing" ? html`<p>The clip is still being prepared. Try again in a moment.</p>`
        : html`<${SharedClips} share=${opened} onEnded=${() => { setOpened(null); setProblem("That share has ended."); reload(); }} />`}
    </section>`;
  }
  return html`<section class="shared-with-me">
    <${PageHead} title="Shared with me" subtitle="Clips neighbours shared with your account." />
    <${ErrorText} error=${problem} />
    ${error ? html`<${LoadFailed} error=${error} retry=${reload} />` : !data ? html`<${Loading} />`
      : !data.shares.length ? html`<${Empty} icon="film" title="Nothing shared with you">When a neighbour shares a clip with your account, it is here until it ends.</${Empty}>`
      : html`<ul class="share-list">${data.shares.map((s) => html`<li key=${s.id} class="card">
          <button type="button" class="share-summary" data-share=${s.id} onClick=${() => open(s.id)}>
            <span class="share-title"><strong>${s.title}</strong> <span class="muted small">${CATEGORY_WORDS[s.category] || ""}</span></span>
            <span class="small muted">${s.clips} clip${s.clips === 1 ? "" : "s"} · ${s.place ? s.place.label || "area given" : "no place"} · until ${exactly(s.expires_at)}</span>
          </button></li>`)}</ul>`}
  </section>`;
}
