// The audit log (owner only): each access or change as a sentence, the raw row on demand,
// filters, and the check of the log's hash chain.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { exactly, when } from "../lib/format.js";
import { useLoad } from "../lib/load.js";
import { Icon } from "../components/icons.js";
import { ErrorText, Field, LoadFailed, Loading, PageHead, RawDetail } from "../components/ui.js";
import { AuditCheckpoints } from "../components/audit-checkpoints.js";

const LIMIT = 200;

function sentence(row) {
  if (row.summary) return row.summary;
  return `${row.actor || "Someone"}: ${row.action}${row.target ? ` (${row.target})` : ""}`;
}

function AuditRow({ row }) {
  const ok = row.outcome === "ok";
  return html`<li class=${`audit-row${ok ? "" : " refused"}`} data-seq=${row.seq} data-action=${row.action}>
    <span class=${`audit-icon ${ok ? "" : "bad"}`}><${Icon} name=${ok ? "check" : "alert"} size=${18} /></span>
    <div class="audit-body">
      <p class="audit-text">${sentence(row)}${ok ? null : html` <span class="pill bad">${row.outcome}</span>`}</p>
      <p class="muted small"><time datetime=${row.at} title=${exactly(row.at)}>${when(row.at)}</time>${row.ip ? ` · from ${row.ip}` : ""}</p>
      <${RawDetail} summary="Raw entry">
        <dl class="facts small">
          <dt>Number</dt><dd>${String(row.seq)}${row.related_seq ? ` (goes with ${row.related_seq})` : ""}</dd>
          <dt>Who</dt><dd>${row.actor}</dd><dt>Action</dt><dd><code>${row.action}</code></dd>
          <dt>Target</dt><dd>${row.target}</dd><dt>Outcome</dt><dd>${row.outcome}</dd>
          <dt>When</dt><dd>${exactly(row.at)}</dd>
          ${Object.keys(row.detail || {}).length ? html`<dt>Detail</dt><dd><code class="json">${JSON.stringify(row.detail, null, 1)}</code></dd>` : null}
        </dl>
      </${RawDetail}>
    </div>
  </li>`;
}

/** The audit page. */
export function AuditView() {
  const [draft, setDraft] = useState({ actor: "", action: "", target: "", since: "" });
  const [filters, setFilters] = useState(draft);
  const [verdict, setVerdict] = useState(null);
  const [verifyError, setVerifyError] = useState(null);
  const { data, error, loading, reload } = useLoad((signal) => {
    const query = new URLSearchParams({ limit: String(LIMIT) });
    for (const key of ["actor", "action", "target"]) if (filters[key]) query.set(key, filters[key]);
    if (filters.since) query.set("since", new Date(filters.since).toISOString());
    return api("GET", `/api/audit?${query}`, undefined, { signal });
  }, [filters]);
  const set = (key) => (e) => setDraft({ ...draft, [key]: e.currentTarget.value });
  const verify = async () => {
    setVerifyError(null);
    try { setVerdict(await api("GET", "/api/audit/verify")); } catch (err) { setVerifyError(err); }
  };
  return html`<div class="page audit">
    <${PageHead} title="Audit log" subtitle="Every sign-in, change and live view, newest first.">
      <button type="button" class="secondary" onClick=${verify}><${Icon} name="lock" /><span>Verify chain</span></button>
    </${PageHead}>
    ${verdict ? html`<p id="verdict" class=${verdict.ok ? "done" : "error"} role="status">
      ${verdict.ok ? `Chain intact: ${verdict.checked} rows checked.` : `BROKEN at row ${verdict.first_bad_seq}: ${verdict.reason}.`}</p>` : null}
    <${ErrorText} error=${verifyError} />
    <${AuditCheckpoints} />
    <details class="card filters-card">
      <summary><${Icon} name="search" /> Filter</summary>
      <form class="form-grid" onSubmit=${(e) => { e.preventDefault(); setFilters(draft); }}>
        <${Field} label="Who"><input name="actor" value=${draft.actor} onInput=${set("actor")} autocapitalize="none" /></${Field}>
        <${Field} label="Action" hint="e.g. login finds every login"><input name="action" value=${draft.action} onInput=${set("action")} autocapitalize="none" /></${Field}>
        <${Field} label="About" hint="e.g. camera:front-door"><input name="target" value=${draft.target} onInput=${set("target")} autocapitalize="none" /></${Field}>
        <${Field} label="Since"><input name="since" type="datetime-local" value=${draft.since} onInput=${set("since")} /></${Field}>
        <div class="actions"><button type="submit">Filter</button></div>
      </form>
    </details>
    ${error ? html`<${LoadFailed} error=${error} retry=${reload} />` : !data ? html`<${Loading} />` : null}
    ${data ? html`<ol class=${`audit-list${loading ? " stale" : ""}`}>${data.rows.map((r) => html`<${AuditRow} key=${r.seq} row=${r} />`)}</ol>` : null}
    ${data && !data.rows.length ? html`<p class="muted">Nothing matches.</p>` : null}
  </div>`;
}
