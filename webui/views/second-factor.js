// The second factor on the settings page: set it up (QR code or key), confirm it with a code,
// and keep the one-time recovery codes the gateway shows once.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { ErrorText, Field } from "../components/ui.js";
import { Icon } from "../components/icons.js";

/** The QR code as an image: the gateway's SVG inside a data: URI (an <img> runs no script). */
function QrCode({ started }) {
  const src = started.qr_data_uri?.startsWith("data:image/")
    ? started.qr_data_uri
    : started.qr_svg ? `data:image/svg+xml;charset=utf-8,${encodeURIComponent(started.qr_svg)}` : null;
  if (!src) return null;
  return html`<img class="qr" src=${src} alt="QR code for your authenticator app" width="200" height="200" />`;
}

/** The recovery codes, shown once, with a way to copy them. */
export function RecoveryCodes({ codes, onDone, doneLabel = "I have saved these codes" }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try { await navigator.clipboard.writeText(codes.join("\n")); setCopied(true); } catch { setCopied(false); }
  };
  return html`<div id="recovery-codes" class="recovery">
    <h3>Your recovery codes</h3>
    <p>Each signs you in once if your phone is lost. Keep them somewhere safe: they are shown only now.</p>
    <ol class="codes">${codes.map((code) => html`<li><code>${code}</code></li>`)}</ol>
    <div class="actions">
      ${navigator.clipboard ? html`<button type="button" class="secondary" onClick=${copy}>${copied ? "Copied" : "Copy codes"}</button>` : null}
      <button type="button" id="codes-saved" onClick=${onDone}>${doneLabel}</button>
    </div>
  </div>`;
}

/** The card; `onEnrolled` runs once the second factor is on and its codes were seen. */
export function SecondFactorCard({ me, onEnrolled }) {
  const [started, setStarted] = useState(null);
  const [code, setCode] = useState("");
  const [codes, setCodes] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [fresh, setFresh] = useState(null);
  const start = async () => {
    setError(null);
    try { setStarted(await api("POST", "/api/me/totp")); } catch (err) { setError(err); }
  };
  const confirm = async (e) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const done = await api("POST", "/api/me/totp/confirm", { code });
      setStarted(null);
      if (done?.recovery_codes?.length) setCodes(done.recovery_codes);
      else onEnrolled();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const newCodes = async () => {
    setError(null);
    try { setFresh((await api("POST", "/api/me/recovery-codes")).recovery_codes); } catch (err) { setError(err); }
  };
  let body;
  if (codes) {
    body = html`<${RecoveryCodes} codes=${codes} onDone=${() => { setCodes(null); onEnrolled(); }} doneLabel="I have saved these codes: continue" />`;
  } else if (fresh) {
    body = html`<${RecoveryCodes} codes=${fresh} onDone=${() => setFresh(null)} />`;
  } else if (started) {
    body = html`<div class="enrol">
      <ol class="steps">
        <li>Open your authenticator app (Google Authenticator, Aegis, 1Password…) and scan this code.</li>
        <li>Enter the six digits it shows.</li>
      </ol>
      <div class="enrol-grid">
        <${QrCode} started=${started} />
        <div class="enrol-key">
          <p class="muted small">Can't scan? Type this key instead:</p>
          <p><code id="totp-secret" class="secret">${started.secret}</code></p>
          <details class="raw"><summary>Show the setup link</summary><p class="uri"><code>${started.uri}</code></p></details>
        </div>
      </div>
      <form onSubmit=${confirm} class="inline-form">
        <${Field} label="Code"><input name="totp-code" inputmode="numeric" autocomplete="one-time-code" required
          value=${code} onInput=${(e) => setCode(e.currentTarget.value)} /></${Field}>
        <button type="submit" disabled=${busy}>Turn on</button>
        ${me.totp_enrolled ? html`<button type="button" class="secondary" onClick=${() => setStarted(null)}>Keep the current one</button>` : null}
      </form>
    </div>`;
  } else {
    body = html`<div class="actions">
      <button type="button" class=${me.totp_enrolled ? "secondary" : ""} onClick=${start}>
        ${me.totp_enrolled ? "Replace second factor" : "Set up a second factor"}</button>
      ${me.totp_enrolled && "recovery_codes_left" in me ? html`<button type="button" class="secondary" onClick=${newCodes}>New recovery codes</button>` : null}
    </div>`;
  }
  const on = me.totp_enrolled || codes !== null;  // codes shown: it was just turned on
  return html`<section class="card">
    <h2><${Icon} name="key" /> Second factor</h2>
    ${me.must_enroll_totp && !on ? html`<p class="warning">Owner accounts need a second factor before anything else.</p>` : null}
    <p>${on ? html`<span class="pill ok">On</span> A code from your authenticator app is asked at sign-in.`
      : html`<span class="pill">Off</span> Only your password protects this account.`}</p>
    ${me.totp_enrolled && "recovery_codes_left" in me ? html`<p class="muted small">${me.recovery_codes_left} unused recovery codes.</p>` : null}
    ${body}
    <${ErrorText} error=${error} />
  </section>`;
}
