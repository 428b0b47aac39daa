// Modal dialogs: "confirm it is you" before security-sensitive changes (the server asks for it
// when the sign-in is more than a few minutes old), and "are you sure?" before removing things.
import { html, useId, useLayoutEffect, useRef, useState } from "../lib/html.js";
import { store, useStore } from "../lib/store.js";
import { ErrorText, Field } from "./ui.js";

/** A <dialog> shown modally while mounted; Escape calls onCancel. */
export function Modal({ id, labelledBy, onCancel, children }) {
  const ref = useRef(null);
  useLayoutEffect(() => {
    const dialog = ref.current;
    dialog.showModal();
    return () => { if (dialog.open) dialog.close(); };
  }, []);
  const cancel = (e) => { e.preventDefault(); onCancel(); };
  return html`<dialog id=${id} class="dialog" ref=${ref} aria-labelledby=${labelledBy} onCancel=${cancel}>${children}</dialog>`;
}

let pending = null;  // one prompt at a time, whatever number of requests asked

/** Ask for the password again (api.js calls it); resolves true once the server accepted it. */
export function askIdentity(post) {
  if (pending) return pending;
  pending = new Promise((resolve) => {
    const finish = (ok) => { pending = null; store.set({ reauth: null }); resolve(ok); };
    store.set({ reauth: { post, finish } });
  });
  return pending;
}

/** The "confirm it is you" dialog, while the store asks for one. */
export function ReauthDialog() {
  const reauth = useStore((s) => s.reauth);
  return reauth ? html`<${ReauthForm} reauth=${reauth} />` : null;
}

function ReauthForm({ reauth }) {
  const title = useId();
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [needCode, setNeedCode] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await reauth.post({ password, code: code || null });
      reauth.finish(true);
    } catch (err) {
      if (err.code === "totp_required") setNeedCode(true);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<${Modal} id="reauth" labelledBy=${title} onCancel=${() => reauth.finish(false)}>
    <form onSubmit=${submit}>
      <h2 id=${title}>Confirm it is you</h2>
      <p>Enter your password again to make this change.</p>
      <${Field} label="Password"><input name="confirm-password" type="password" autocomplete="current-password"
        required value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} autofocus /></${Field}>
      ${needCode ? html`<${Field} label="Code from your authenticator app"><input name="confirm-code" inputmode="numeric"
        autocomplete="one-time-code" pattern="[0-9 ]*" value=${code} onInput=${(e) => setCode(e.currentTarget.value)}
        ref=${(el) => el && el.focus()} /></${Field}>` : null}
      <${ErrorText} error=${error} />
      <div class="actions">
        <button type="submit" disabled=${busy}>Confirm</button>
        <button type="button" class="secondary" onClick=${() => reauth.finish(false)}>Cancel</button>
      </div>
    </form>
  </${Modal}>`;
}

/** A hook: [dialog element, ask({title, text, confirm}) → Promise<boolean>] for "are you sure?". */
export function useConfirm() {
  const [question, setQuestion] = useState(null);
  const title = useId();
  const ask = (q) => new Promise((resolve) => setQuestion({ ...q, resolve }));
  const answer = (ok) => { question.resolve(ok); setQuestion(null); };
  const dialog = question ? html`<${Modal} id="confirm" labelledBy=${title} onCancel=${() => answer(false)}>
    <h2 id=${title}>${question.title}</h2>
    ${question.text ? html`<p>${question.text}</p>` : null}
    <div class="actions">
      <button type="button" class=${question.danger === false ? "" : "danger"} onClick=${() => answer(true)}>${question.confirm || "OK"}</button>
      <button type="button" class="secondary" onClick=${() => answer(false)}>Cancel</button>
    </div>
  </${Modal}>` : null;
  return [dialog, ask];
}
