// The JSON API, same-origin only. State changes send JSON (the server refuses anything else,
// which is part of its CSRF defence together with the same-origin check).

export class ApiError extends Error {
  constructor(status, code, reason) {
    super(reason || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

import { confirmIdentity } from "./reauth.js";

export async function api(method, path, body, confirmed = false) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
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
        && await confirmIdentity((answer) => api("POST", "/api/session/confirm", answer, true))) {
      return api(method, path, body, true);  // once: the password was just entered
    }
    throw new ApiError(response.status, data?.error, data?.reason || data?.error);
  }
  return data;
}
