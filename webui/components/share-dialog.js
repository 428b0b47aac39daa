// Sharing a clip with neighbours: what to call it, who gets it (a link, neighbour accounts),
// for how long, with or without sound, an optional trim, and privacy masks drawn on the poster.
// The link is shown once, with a QR code; the gateway keeps only its hash.
import { api } from "../lib/api.js";
import { useStore } from "../lib/store.js";
import { receivesShares } from "../lib/words.js";
import { html, useEffect, useId, useState } from "../lib/html.js";
import { clock } from "../lib/format.js";
import { Modal } from "./dialogs.js";
import { MaskFields } from "./mask-editor.js";
import { CATEGORY_WORDS } from "./shared-clips.js";
import { ErrorText, Field } from "./ui.js";

function LinkOnce({ link, share }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => { try { await navigator.clipboard.writeText(link.url); setCopied(true); } catch { setCopied(false); } };
  return html`<div class="share-link" id="share-link">
    <p><strong>The link is shown this once.</strong> Doorstep keeps only a fingerprint of it: copy it now, or let a phone scan the code.</p>
    <img class="qr" src=${link.qr_data_uri} alt="QR code of the share's link" width="200" height="200" />
    <p><input class="link-field" readonly value=${link.url} aria-label="The share's link" onFocus=${(e) => e.currentTarget.select()} /></p>
    <button type="button" class="secondary" onClick=${copy}>${copied ? "Copied" : "Copy the link"}</button>
    <p class="muted small">It works until ${new Date(share.expires_at).toLocaleString()}${share.view_limit ? `, for ${share.view_limit} view${share.view_limit === 1 ? "" : "s"}` : ""}. You can end it any time on the Shares page.</p>
  </div>`;
}

/** The "Share this clip" dialog; `onClose(share|null)` when it closes. */
export function ShareDialog({ clip, onClose }) {
  const title = useId();
  const [form, setForm] = useState({ title: "", description: "", category: "suspicious_activity", audio: false, days: 7, limit: "", link: true, start: 0, end: "" });
  const [masks, setMasks] = useState([]);
  const [recipients, setRecipients] = useState([]);
  const [neighbours, setNeighbours] = useState([]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [made, setMade] = useState(null);
  const meta = useStore((s) => s.meta);
  useEffect(() => {
    api("GET", "/api/users").then((a) => setNeighbours(a.users.filter((u) => receivesShares(meta, u.role) && !u.disabled))).catch(() => {});
  }, []);
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.type === "checkbox" ? e.currentTarget.checked : e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const item = { clip_id: clip.id, start_s: Number(form.start) || 0, masks };
      if (form.end !== "") item.end_s = Number(form.end);
      const body = {
        title: form.title.trim(), description: form.description.trim(), category: form.category,
        audio: form.audio, expires_in_days: Number(form.days), link: form.link, recipients, items: [item],
      };
      if (form.limit !== "") body.view_limit = Number(form.limit);
      setMade(await api("POST", "/api/shares", body));
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  const toggle = (id) => setRecipients(recipients.includes(id) ? recipients.filter((r) => r !== id) : [...recipients, id]);
  return html`<${Modal} id="share-dialog" labelledBy=${title} onCancel=${() => onClose(made?.share || null)}>
    <h2 id=${title}>Share this clip</h2>
    ${made ? html`
      ${made.link ? html`<${LinkOnce} link=${made.link} share=${made.share} />` : html`<p>Shared with ${made.share.recipients.map((r) => r.username).join(", ")}.</p>`}
      <p class="muted small">The copy is being made now (trimmed${masks.length ? ", masked" : ""}${form.audio ? "" : ", without sound"}); its progress is on the Shares page.</p>
      <div class="actions"><a class="button" href="#/shares" onClick=${() => onClose(made.share)}>Open Shares</a>
        <button type="button" class="secondary" onClick=${() => onClose(made.share)}>Close</button></div>`
    : html`<form onSubmit=${submit} class="share-form">
      <${Field} label="Title"><input name="share-title" required maxlength="120" value=${form.title} onInput=${set("title")} placeholder="e.g. Parcel taken from the porch" /></${Field}>
      <${Field} label="What happened" hint="Optional; shown with the clip"><textarea name="share-description" maxlength="2000" rows="3" value=${form.description} onInput=${set("description")}></textarea></${Field}>
      <${Field} label="Kind of incident"><select name="share-category" value=${form.category} onChange=${set("category")}>
        ${Object.entries(CATEGORY_WORDS).map(([value, label]) => html`<option value=${value}>${label}</option>`)}</select></${Field}>
      <fieldset class="trim"><legend>Part of the clip (${clock(clip.duration_s)} long)</legend>
        <${Field} label="From (seconds)"><input name="share-start" type="number" min="0" step="0.1" value=${form.start} onInput=${set("start")} /></${Field}>
        <${Field} label="To (seconds)" hint="Empty: to the end"><input name="share-end" type="number" min="0.1" step="0.1" value=${form.end} onInput=${set("end")} /></${Field}>
      </fieldset>
      <${MaskFields} poster=${clip.poster} masks=${masks} setMasks=${setMasks} what="shared copy" />
      <label class="check"><input type="checkbox" name="share-audio" checked=${form.audio} onChange=${set("audio")} /> Keep the sound (off: voices of passers-by stay private)</label>
      <fieldset><legend>Who gets it</legend>
        <label class="check"><input type="checkbox" name="share-link" checked=${form.link} onChange=${set("link")} /> A link anyone holding it can watch</label>
        ${neighbours.map((u) => html`<label class="check" key=${u.id}><input type="checkbox" checked=${recipients.includes(u.id)} onChange=${() => toggle(u.id)} /> ${u.username} (neighbour account)</label>`)}
      </fieldset>
      <${Field} label="Ends after (days)" hint="1 hour (0.04) to 30 days"><input name="share-days" type="number" min="0.042" max="30" step="any" required value=${form.days} onInput=${set("days")} /></${Field}>
      <${Field} label="At most this many views" hint="Empty: no limit"><input name="share-limit" type="number" min="1" step="1" value=${form.limit} onInput=${set("limit")} /></${Field}>
      <p class="muted small">What leaves the box is a copy: no camera name, no exact time or place (only your area, set in Settings → Sharing), no sound unless kept.</p>
      <${ErrorText} error=${error} />
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy}>Share</button>
        <button type="button" class="secondary" onClick=${() => onClose(null)}>Cancel</button>
      </div>
    </form>`}
  </${Modal}>`;
}
