// The JSON API, same-origin only. State changes send JSON (the server refuses anything else,
// which is part of its CSRF defence together with the same-origin check).

/** An API refusal: `status`, the server's stable `code`, its reason as the message, and where
 * the server gives them a `hint` (what to do), the raw `detail` and the `field` concerned. */
export class ApiError extends Error {
  constructor(status, code, reason, body = null) {
    super(reason || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.hint = typeof body?.hint === "string" ? body.hint : null;
    this.detail = typeof body?.detail === "string" ? body.detail : null;
    this.field = typeof body?.field === "string" ? body.field : null;
  }
}

let confirmIdentity = async () => false;

/** Install the "enter your password again" prompt (the app's dialog); resolves true when done. */
export function setIdentityPrompt(prompt) {
  confirmIdentity = prompt;
}

/** Whether an error is a fetch cancelled by its view going away (nothing to show). */
export function isAbort(err) {
  return err?.name === "AbortError";
}

/** Call the API: resolves to the JSON answer, rejects with ApiError (or AbortError via `signal`). */
export async function api(method, path, body, { signal, confirmed = false } = {}) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" }, signal };
  if (method !== "GET") {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body ?? {});
  }
  const response = await fetch(path, options);
  let data = null;
  if ((response.headers.get("Content-Type") || "").includes("application/json")) data = await response.json();
  if (!response.ok) {
    if (response.status === 401 && data?.error === "signed_out") window.dispatchEvent(new Event("doorstep:signed-out"));
    if (data?.error === "totp_enrollment_required") window.dispatchEvent(new Event("doorstep:enroll"));
    if (data?.error === "reauth_required" && !confirmed
        && await confirmIdentity((answer) => api("POST", "/api/session/confirm", answer, { confirmed: true }))) {
      return api(method, path, body, { signal, confirmed: true });  // once: the password was just entered
    }
    throw new ApiError(response.status, data?.error, data?.reason || data?.error, data);
  }
  return data;
}
