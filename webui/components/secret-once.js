// A secret the gateway shows once (an outgoing webhook's signing secret): in a dialog that stays
// until the person says they have it, with a copy button.
import { html, useId, useRef, useState } from "../lib/html.js";
import { Modal } from "./dialogs.js";
import { Icon } from "./icons.js";

async function copyText(text, node) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return true;
  }
  // Plain http on the LAN has no clipboard API: select the text for the person to copy.
  const range = document.createRange();
  range.selectNodeContents(node);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return false;
}

/** The dialog: `title`, `secret`, what to do with it (`children`), and onDone when dismissed. */
export function SecretOnce({ title, secret, onDone, children }) {
  const heading = useId();
  const code = useRef(null);
  const [copied, setCopied] = useState(null);
  const copy = async () => {
    try { setCopied(await copyText(secret, code.current) ? "Copied." : "Selected: copy it with your device's Copy."); }
    catch { setCopied("Could not copy: select the secret and copy it."); }
  };
  return html`<${Modal} id="secret-once" labelledBy=${heading} onCancel=${onDone}>
    <h2 id=${heading}>${title}</h2>
    <p class="warning"><${Icon} name="key" size=${18} /><span>Copy it now: it is shown only this once.</span></p>
    ${children}
    <p class="secret-box"><code id="webhook-secret" ref=${code}>${secret}</code></p>
    <p class="small muted" role="status">${copied || ""}</p>
    <div class="actions">
      <button type="button" class="secondary" id="copy-secret" onClick=${copy}><${Icon} name="copy" /> Copy</button>
      <button type="button" id="secret-done" onClick=${onDone}>I have copied it</button>
    </div>
  </${Modal}>`;
}
