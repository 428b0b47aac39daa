// Security-sensitive changes (users, roles, the second factor) need the password again when
// the sign-in is more than a few minutes old: a stolen session alone cannot make them.
import { errorBox, field, h, setError } from "./dom.js";

let pending = null;  // one dialog at a time, whatever number of requests asked

export function confirmIdentity(post) {
  if (pending) return pending;
  pending = new Promise((resolve) => {
    const password = h("input", { name: "confirm-password", type: "password", autocomplete: "current-password", required: true });
    const code = h("input", { name: "confirm-code", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9 ]*" });
    const codeField = field("Code from your authenticator app", code);
    codeField.hidden = true;
    const error = errorBox();
    const dialog = h("dialog", { id: "reauth", class: "card narrow" });
    const finish = (ok) => { dialog.close(); dialog.remove(); pending = null; resolve(ok); };
    const form = h("form", { onsubmit: async (e) => {
      e.preventDefault();
      setError(error, "");
      try {
        await post({ password: password.value, code: code.value || null });
        finish(true);
      } catch (err) {
        if (err.code === "totp_required") { codeField.hidden = false; code.focus(); return; }
        setError(error, err.message);
      }
    } },
      h("h2", {}, "Confirm it is you"),
      h("p", {}, "Enter your password again to make this change."),
      field("Password", password), codeField, error,
      h("div", { class: "actions" },
        h("button", { type: "submit" }, "Confirm"),
        h("button", { type: "button", class: "secondary", onclick: () => finish(false) }, "Cancel")));
    dialog.append(form);
    dialog.addEventListener("cancel", () => finish(false));
    document.body.append(dialog);
    dialog.showModal();
    password.focus();
  });
  return pending;
}
