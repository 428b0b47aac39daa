// Police footage requests (owner): each request with the box's checks, its flags, how the
// agency was verified, the legal basis and the clips of its window; per clip grant (trimmed to
// the window or whole, sound kept or not, privacy masks) or decline; the package and its
// downloads; adding a request typed in or signed; the agencies; the transparency report.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { exactly, when } from "../lib/format.js";
import { useInterval, useLoad } from "../lib/load.js";
import { Icon } from "../components/icons.js";
import { Empty, ErrorText, Field, LoadFailed, Loading, PageHead } from "../components/ui.js";
import { AgenciesPanel } from "../components/agencies.js";
import { MaskFields } from "../components/mask-editor.js";
import { RequestIntake } from "../components/request-intake.js";
import { TransparencyReport } from "../components/transparency.js";

const STATUS = {
  pending: ["Waiting for you", "warn"], granted: ["Granted", "ok"], partial: ["Partly granted", "ok"],
  declined: ["Declined", "off"], expired: ["Expired unanswered", "off"], refused: ["Refused by the box", "bad"],
};
const BASIS = {
  voluntary: "Voluntary request", subpoena: "Subpoena", court_order: "Court order", warrant: "Warrant",
  emergency_claim: "Emergency claim", preservation: "Preservation request",
};

function Status({ status }) {
  const [label, tone] = STATUS[status] || [status, "off"];
  return html`<span class=${`pill ${tone}`}>${label}</span>`;
}

function Verification({ request }) {
  const bad = request.verification === "unverified";
  return html`<span class=${`pill ${bad ? "bad" : "ok"}`} data-verification=${request.verification}>${request.verification_text}</span>`;
}

function ClipChoice({ clip, choice, onChange, disabled }) {
  const set = (patch) => onChange({ ...choice, ...patch });
  return html`<li class="card request-clip" data-clip=${clip.id}>
    <div>
      <p><strong>${clip.camera_id}</strong> · <time datetime=${clip.started_at} title=${exactly(clip.started_at)}>${when(clip.started_at)}</time> · ${Math.round(clip.duration_s)} s</p>
      <video controls preload="none" src=${clip.video} poster=${clip.poster || undefined} aria-label=${`Clip of ${clip.camera_id}`}></video>
      <fieldset class="choice" disabled=${disabled}>
        <legend class="sr-only">This clip</legend>
        <label class="check"><input type="radio" name=${`c-${clip.id}`} value="decline" checked=${!choice.grant} onChange=${() => set({ grant: false })} /> Not this clip</label>
        <label class="check"><input type="radio" name=${`c-${clip.id}`} value="grant" checked=${choice.grant} onChange=${() => set({ grant: true })} /> Grant it</label>
        ${choice.grant ? html`<label class="check"><input type="checkbox" name="trim" checked=${choice.trim} onChange=${(e) => set({ trim: e.currentTarget.checked })} /> Only the requested window (from the keyframe at or just before its start)</label>
          <label class="check"><input type="checkbox" name="audio" checked=${choice.audio} onChange=${(e) => set({ audio: e.currentTarget.checked })} /> Keep the sound</label>` : null}
      </fieldset>
      ${choice.grant && (choice.trim || !choice.audio || choice.masks.length) ? html`<label class="check"><input type="checkbox" name="original" disabled=${disabled} aria-describedby=${`original-${clip.id}`} checked=${choice.original} onChange=${(e) => set({ original: e.currentTarget.checked })} />
        Also hand over the recording as made (whole, with sound, unmasked)</label>
        <p class="small muted" id=${`original-${clip.id}`}>${choice.original ? "Both go: the agency can see everything you trimmed, silenced or masked." : "Once trimmed, silenced or masked, only that copy goes; the recording stays here under the request's legal hold, its fingerprint in the package."}</p>` : null}
      ${choice.grant ? html`<${MaskFields} poster=${clip.poster} masks=${choice.masks} setMasks=${(masks) => set({ masks })}
        name=${`mask-style-${clip.id}`} what="copy handed over" disabled=${disabled} />` : null}
    </div>
  </li>`;
}

function Decision({ request, onDecided }) {
  const [choices, setChoices] = useState(() => Object.fromEntries(request.clips.map((c) => [c.id, { grant: false, trim: true, audio: false, masks: [], original: false }])));
  const [note, setNote] = useState("");
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const granted = request.clips.filter((c) => choices[c.id].grant);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setProblem(null);
    const body = {
      grants: granted.map((c) => ({ clip_id: c.id, trim_to_window: choices[c.id].trim, audio: choices[c.id].audio, masks: choices[c.id].masks, original: choices[c.id].original })),
      declined: request.clips.filter((c) => !choices[c.id].grant).map((c) => c.id), note: note || null,
    };
    try { onDecided(await api("POST", `/api/requests/${encodeURIComponent(request.id)}/decision`, body)); } catch (err) { setProblem(err); }
    setBusy(false);
  };
  return html`<form class="decision" onSubmit=${submit}>
    <h3>The clips of the window (${request.clips.length})</h3>
    ${request.clips.length ? html`<ul class="request-clips">${request.clips.map((c) => html`<${ClipChoice} key=${c.id} clip=${c} choice=${choices[c.id]} disabled=${busy}
      onChange=${(next) => setChoices({ ...choices, [c.id]: next })} />`)}</ul>` : html`<p class="muted">No clip was recorded in this window. Declining tells the agency nothing.</p>`}
    <${Field} label="Private note" hint="Only you see it; the agency never does."><textarea name="note" maxlength="2000" value=${note} onInput=${(e) => setNote(e.currentTarget.value)}></textarea></${Field}>
    <div class="actions">
      <button type="submit" id="decide" disabled=${busy}>${granted.length ? `Grant ${granted.length} clip${granted.length === 1 ? "" : "s"}, decline the rest` : "Decline the request"}</button>
    </div>
    <p class="muted small">Granted clips are held (never deleted) for a year under this request; a signed consent receipt records what you chose. The agency sees "received" until a package is ready.</p>
    <${ErrorText} error=${problem} />
  </form>`;
}

function Packages({ request, link, onChanged }) {
  const [problem, setProblem] = useState(null);
  const path = (id) => `/api/requests/${encodeURIComponent(request.id)}/packages/${encodeURIComponent(id)}`;
  const end = async (id) => {
    try { await api("DELETE", path(id)); onChanged(); } catch (err) { setProblem(err); }
  };
  const again = async (id) => {
    setProblem(null);
    try { await api("POST", `${path(id)}/retry`, {}); onChanged(); } catch (err) { setProblem(err); }
  };
  return html`<section class="packages">
    <h3>Evidence package</h3>
    ${link ? html`<p class="done" id="package-link">Link for an agency without an account (shown once): <code>${location.origin}${link}</code></p>` : null}
    ${request.packages.map((p) => html`<div class="card" key=${p.id} data-package=${p.id} data-state=${p.state}>
      <p>${p.state === "ready" ? `Ready: ${(p.size_bytes / 1e6).toFixed(1)} MB` : p.state === "building" ? "Being made…" : `Could not be made: ${p.error}`}
        · downloads ${p.downloads} of ${p.max_downloads} · ${p.revoked || p.ended ? "grant ended" : `until ${exactly(p.expires_at)}`}</p>
      ${p.sha256 ? html`<p class="small muted">SHA-256 <code class="hash">${p.sha256}</code></p>` : null}
      ${!p.revoked && !p.ended ? html`<div class="actions">
        ${p.state === "failed" ? html`<button type="button" class="secondary" data-retry=${p.id} onClick=${() => again(p.id)}>Make it again</button>` : null}
        <button type="button" class="danger" onClick=${() => end(p.id)}>End the download grant now</button></div>` : null}
    </div>`)}
    <h3>Downloads</h3>
    ${request.downloads.length ? html`<ul id="downloads">${request.downloads.map((d, n) => html`<li key=${n}><time datetime=${d.at} title=${exactly(d.at)}>${when(d.at)}</time> · ${d.via === "link" ? "by the link" : "by the agency's account"}${d.ip ? ` from ${d.ip}` : ""}</li>`)}</ul>` : html`<p class="muted">Not downloaded yet.</p>`}
    <${ErrorText} error=${problem} />
  </section>`;
}

function Detail({ id, onBack }) {
  const [link, setLink] = useState(null);
  const { data, error, reload } = useLoad((signal) => api("GET", `/api/requests/${encodeURIComponent(id)}`, undefined, { signal }), [id]);
  const building = !!data && data.packages.some((p) => p.state === "building");
  useInterval(reload, building ? 1000 : 0, [building]);  // the package, while it is made
  if (error) return html`<${LoadFailed} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} />`;
  const form = data.form || {};
  return html`<section class="request-detail" data-request=${data.id} data-status=${data.status}>
    <button type="button" class="ghost" onClick=${onBack}><${Icon} name="back" /> All requests</button>
    <h2>Case ${data.case_number} · ${data.incident_type}</h2>
    <p><${Status} status=${data.status} /> <${Verification} request=${data} /> ${data.agency} · ${BASIS[form.legal_basis] || ""}</p>
    ${data.refused_reason ? html`<p class="error">Refused: ${data.refused_reason}</p>` : null}
    ${data.flags.length ? html`<ul class="flags">${data.flags.map((f, n) => html`<li key=${n} class="warn"><${Icon} name="alert" size=${16} /> ${f}</li>`)}</ul>` : null}
    <dl class="facts small">
      <dt>Officer</dt><dd>${form.officer ? `${form.officer.name}${form.officer.badge ? `, badge ${form.officer.badge}` : ""} (${form.officer.contact})` : "—"}</dd>
      <dt>Description</dt><dd>${form.description || "—"}</dd>
      ${form.legal_document ? html`<dt>Document</dt><dd>${form.legal_document.reference}</dd>` : null}
      <dt>Window</dt><dd>${data.window_start ? `${exactly(data.window_start)} – ${exactly(data.window_end)}` : "—"}</dd>
      <dt>Area</dt><dd>${data.area_sq_mi != null ? `${data.area_sq_mi} sq mi` : "—"}${data.home_in_area === true ? ", your home is inside" : data.home_in_area === false ? ", your home is outside" : ", set your home's location in Settings → Sharing to check"}</dd>
      <dt>Their retention</dt><dd>${form.retention || "not stated"}</dd>
      <dt>Received</dt><dd>${exactly(data.received_at)} (${data.channel.replace("_", " ")}); answer by ${exactly(data.expires_at)}</dd>
      <dt>Checks</dt><dd><ul class="checks">${data.checks.map((c) => html`<li key=${c.name}>${c.ok ? "✓" : "✗"} ${c.name}: ${c.detail}</li>`)}</ul></dd>
    </dl>
    ${data.status === "pending" ? html`<${Decision} request=${data} onDecided=${(r) => { setLink(r.link); reload(); }} />`
      : data.packages.length || link ? html`<${Packages} request=${data} link=${link} onChanged=${reload} />`
      : data.decided_at ? html`<p class="muted">Decided ${exactly(data.decided_at)}${data.private_note ? ` — your note: ${data.private_note}` : ""}.</p>` : null}
  </section>`;
}

/** The Requests page. */
export function RequestsView() {
  const [open, setOpen] = useState(null);
  const { data, error, reload } = useLoad((signal) => api("GET", "/api/requests", undefined, { signal }));
  const agencies = useLoad((signal) => api("GET", "/api/agencies", undefined, { signal }));
  if (open) return html`<div class="page requests"><${Detail} id=${open} onBack=${() => { setOpen(null); reload(); }} /></div>`;
  return html`<div class="page requests">
    <${PageHead} title="Police requests" subtitle="Nothing leaves this box unless you grant named clips. The agency learns nothing from a decline." />
    ${error ? html`<${LoadFailed} error=${error} retry=${reload} />` : !data ? html`<${Loading} />`
      : !data.requests.length ? html`<${Empty} icon="lock" title="No requests">Requests from agencies you added appear here, with the box's checks.</${Empty}>`
      : html`<ul class="request-list">${data.requests.map((r) => html`<li key=${r.id} class="card">
          <button type="button" class="share-summary" data-request=${r.id} onClick=${() => setOpen(r.id)}>
            <span><strong>Case ${r.case_number || "?"}</strong> · ${r.incident_type || "—"} <${Status} status=${r.status} /></span>
            <span class="small muted">${r.agency} · <${Verification} request=${r} /> · ${when(r.received_at)}${r.flags.length ? ` · ${r.flags.length} flag${r.flags.length === 1 ? "" : "s"}` : ""}</span>
          </button></li>`)}</ul>`}
    <${RequestIntake} agencies=${agencies.data ? agencies.data.agencies : []} onAdded=${reload} />
    <${AgenciesPanel} agencies=${agencies.data} reload=${agencies.reload} />
    <${TransparencyReport} />
  </div>`;
}
