// The Audit page's signed checkpoints: the gateway key's fingerprint to write down, the
// checkpoints to download and keep off the box, a checkpoint now, and the check of the log
// against a checkpoint kept earlier.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { exactly } from "../lib/format.js";
import { useLoad } from "../lib/load.js";
import { ErrorText } from "./ui.js";

/** The checkpoints section. */
export function AuditCheckpoints() {
  const key = useLoad((signal) => api("GET", "/api/audit/key", undefined, { signal }));
  const list = useLoad((signal) => api("GET", "/api/audit/checkpoints", undefined, { signal }));
  const [verdict, setVerdict] = useState(null);
  const [problem, setProblem] = useState(null);
  const now = async () => {
    setProblem(null);
    try { await api("POST", "/api/audit/checkpoints"); list.reload(); } catch (err) { setProblem(err); }
  };
  const against = async (e) => {
    const file = e.currentTarget.files?.[0];
    if (!file) return;
    setProblem(null); setVerdict(null);
    try { setVerdict(await api("POST", "/api/audit/verify", { checkpoint: await file.text() })); } catch (err) { setProblem(err); }
  };
  return html`<details class="card checkpoints">
    <summary>Signed checkpoints</summary>
    <p class="small">Keep a checkpoint and the key's fingerprint somewhere else (a USB stick, an e-mail to yourself): holding the log to them shows rows cut from its end, a log rebuilt from scratch or a swapped key.</p>
    ${key.data ? html`<p>Gateway key <code class="hash" id="key-fingerprint">${key.data.fingerprint}</code></p>` : null}
    <div class="actions">
      <button type="button" class="secondary" id="checkpoint-now" onClick=${now}>Sign a checkpoint now</button>
      <label class="button secondary">Check against a saved checkpoint <input type="file" accept=".txt,text/plain" class="sr-only" name="saved-checkpoint" onChange=${against} /></label>
    </div>
    ${verdict ? html`<p id="checkpoint-verdict" class=${verdict.ok ? "done" : "error"} role="status">${verdict.ok
      ? `Intact: ${verdict.checked} rows, ${verdict.checkpoints} stored and ${verdict.saved} saved checkpoint(s) hold.`
      : `BROKEN at row ${verdict.first_bad_seq}: ${verdict.reason}.`}</p>` : null}
    <${ErrorText} error=${problem} />
    ${list.data ? html`<ul class="checkpoint-list">${list.data.checkpoints.slice(0, 20).map((c) => html`<li key=${c.size}>
      ${c.size} rows · ${exactly(c.at)} · <a href=${`/api/audit/checkpoints/${c.size}`} download>download</a></li>`)}</ul>` : null}
  </details>`;
}
