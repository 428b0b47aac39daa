// The owner's shares: each with its status (active, expired, ended, view limit reached), its
// views and downloads as they happen, and Revoke / Extend / Delete.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { exactly, when } from "../lib/format.js";
import { useInterval, useLoad } from "../lib/load.js";
import { useListen } from "../lib/store.js";
import { useConfirm } from "../components/dialogs.js";
import { Icon } from "../components/icons.js";
import { CATEGORY_WORDS } from "../components/shared-clips.js";
import { Empty, ErrorText, LoadFailed, Loading, PageHead } from "../components/ui.js";

const STATUS = {
  preparing: ["Being made", "warn"], active: ["Active", "ok"], limit_reached: ["View limit reached", "off"],
  expired: ["Expired", "off"], revoked: ["Ended", "off"], failed: ["Could not be made", "bad"],
};
const OPEN = new Set(["preparing", "active", "limit_reached"]);

function Progress({ share }) {
  const working = share.items.filter((i) => i.state !== "ready");
  if (share.status !== "preparing" || !working.length) return null;
  const done = share.items.reduce((sum, i) => sum + i.progress, 0) / share.items.length;
  return html`<p class="share-progress"><progress max="1" value=${done}></progress> Making the copy… ${Math.round(done * 100)} %</p>`;
}

function Detail({ id, onChanged }) {
  const { data, error, reload } = useLoad((signal) => api("GET", `/api/shares/${encodeURIComponent(id)}`, undefined, { signal }), [id]);
  useListen("share-access", (e) => { if (e.share_id === id) reload(); }, [id]);
  const [days, setDays] = useState("7");
  const [problem, setProblem] = useState(null);
  const [dialog, confirm] = useConfirm();
  if (error) return html`<${LoadFailed} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} />`;
  const act = async (method, path, body) => {
    setProblem(null);
    try { await api(method, `/api/shares/${encodeURIComponent(id)}${path}`, body); reload(); onChanged(); } catch (err) { setProblem(err); }
  };
  const revoke = async () => {
    if (await confirm({ title: "End this share now?", text: "Anyone watching it is stopped at once; the link and the neighbours' access end for good.", confirm: "End it" })) act("POST", "/revoke");
  };
  const remove = async () => {
    if (await confirm({ title: "Delete this share?", text: "Its copies and its list of views are deleted; the audit log keeps what happened.", confirm: "Delete" })) act("DELETE", "");
  };
  return html`<div class="share-detail">
    ${data.items.map((i) => html`<div class="share-item" key=${i.position}>
      ${i.poster ? html`<img src=${i.poster} alt="" width="160" height="90" />` : null}
      <p class="small">Clip ${i.position + 1}: ${i.state === "ready" && !i.poster && data.status !== "active" ? "copy deleted (the share ended)" : i.state === "ready" ? `${Math.max(1, Math.floor(i.duration_s))} s${i.has_audio ? "" : ", no sound"}${i.masks.length ? `, ${i.masks.length} mask${i.masks.length === 1 ? "" : "s"}` : ""}` : i.error || i.state}
        ${i.sha256 ? html`<br /><span class="muted">Copy SHA-256 <code class="hash">${i.sha256}</code></span>` : null}</p>
    </div>`)}
    <h3>Views and downloads</h3>
    ${data.accesses.length ? html`<ul class="share-accesses">${data.accesses.map((a, n) => html`<li key=${n}>
      <time datetime=${a.at} title=${exactly(a.at)}>${when(a.at)}</time> · ${a.kind === "view" ? "watched" : "downloaded"} by ${a.via === "link" ? "someone with the link" : a.account} (${a.client})</li>`)}</ul>`
      : html`<p class="muted">Nobody has watched it yet.</p>`}
    ${OPEN.has(data.status) ? html`<div class="actions">
      <label>New end, in days from now <input type="number" name="extend-days" min="0.042" max="30" step="any" value=${days} onInput=${(e) => setDays(e.currentTarget.value)} /></label>
      <button type="button" class="secondary" onClick=${() => act("POST", "/extend", { expires_in_days: Number(days) })}>Extend</button>
      <button type="button" class="danger" id="share-revoke" onClick=${revoke}>End the share now</button>
    </div>` : null}
    <div class="actions"><button type="button" class="ghost danger" onClick=${remove}><${Icon} name="trash" /> Delete</button></div>
    <${ErrorText} error=${problem} />
    ${dialog}
  </div>`;
}

function ShareRow({ share, open, onToggle, onChanged }) {
  const [label, tone] = STATUS[share.status] || [share.status, "off"];
  const who = [share.link ? "the link" : null, ...share.recipients.map((r) => r.username)].filter(Boolean).join(", ");
  return html`<li class="card share-row" data-share=${share.id} data-status=${share.status}>
    <button type="button" class="share-summary" aria-expanded=${open ? "true" : "false"} onClick=${onToggle}>
      <span class="share-title"><strong>${share.title}</strong> <span class="muted small">${CATEGORY_WORDS[share.category] || share.category}</span></span>
      <span class=${`state tone-${tone}`}><span class="state-dot" aria-hidden="true"></span>${label}</span>
      <span class="small muted">${share.views} view${share.views === 1 ? "" : "s"}${share.view_limit ? ` of ${share.view_limit}` : ""} · ${share.downloads} download${share.downloads === 1 ? "" : "s"} · to ${who || "nobody"} · until ${exactly(share.expires_at)}</span>
    </button>
    <${Progress} share=${share} />
    ${open ? html`<${Detail} id=${share.id} onChanged=${onChanged} />` : null}
  </li>`;
}

/** The Shares page (owner). */
export function SharesView() {
  const { data, error, reload } = useLoad((signal) => api("GET", "/api/shares", undefined, { signal }));
  const [open, setOpen] = useState(null);
  useListen("share-access", () => reload(), []);
  const preparing = data?.shares.some((s) => s.status === "preparing");
  useInterval(reload, preparing ? 2000 : 0, [preparing]);  // a copy's progress, while made
  return html`<section class="shares">
    <${PageHead} title="Shares" subtitle="Clips you shared with neighbours: who watched them, and until when." />
    ${error ? html`<${LoadFailed} error=${error} retry=${reload} />` : !data ? html`<${Loading} />`
      : !data.shares.length ? html`<${Empty} icon="send" title="Nothing shared yet">Open a clip on the Clips page and choose Share.</${Empty}>`
      : html`<ul class="share-list">${data.shares.map((s) => html`<${ShareRow} key=${s.id} share=${s} open=${open === s.id}
          onToggle=${() => setOpen(open === s.id ? null : s.id)} onChanged=${reload} />`)}</ul>`}
  </section>`;
}
