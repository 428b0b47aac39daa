// Who is signed in: the first look at the gateway, sign-in and sign-out, and what follows them
// (the vocabulary, the cameras, the push stream).
import { api } from "./api.js";
import { clearRing } from "./ring.js";
import { store } from "./store.js";
import { closeStream, openStream } from "./stream.js";
import { inHousehold, indexMeta } from "./words.js";

// Remembers whether this browser was signed in, so a signed-out visit does not probe the
// session (a 401 the browser would log as an error on every visit).
const HINT_KEY = "doorstep.signed-in";

function hinted() {
  try { return localStorage.getItem(HINT_KEY) === "1"; } catch { return true; }
}

function setHint(on) {
  try { localStorage.setItem(HINT_KEY, on ? "1" : "0"); } catch { /* private mode */ }
}

/** The first look: setup needed? then the session, if this browser had one (not on #/signin). */
export async function boot({ probe = true } = {}) {
  const [setup, meta] = await Promise.all([api("GET", "/api/setup"), api("GET", "/api/meta")]);
  store.set({ meta: indexMeta(meta) });
  if (setup.needed) { store.set({ session: "setup" }); return; }
  if (!probe || !hinted()) { store.set({ session: "signed-out" }); return; }
  await refreshMe();
}

/** Read the session again (after sign-in, setup, enrolment) and load what the account sees. */
export async function refreshMe() {
  let me;
  try {
    me = await api("GET", "/api/session");
  } catch (err) {
    if (err.status === 401) { signedOutHere(); return; }
    throw err;
  }
  setHint(true);
  const household = !me.must_enroll_totp && inHousehold(store.get().meta, me.role);
  if (!household) {
    closeStream();
    store.set({ me, session: "signed-in", cameras: [] });
    return;
  }
  const { cameras } = await api("GET", "/api/cameras");
  store.set({ me, session: "signed-in", cameras });
  openStream();
}

/** Reload the camera list into the store. */
export async function loadCameras(signal) {
  const { cameras } = await api("GET", "/api/cameras", undefined, { signal });
  store.set({ cameras });
  return cameras;
}

/** Forget the session on this page (the server said so, or the person signed out). */
export function signedOutHere() {
  setHint(false);
  closeStream();
  clearRing();
  store.set({ me: null, session: "signed-out", cameras: null, call: null, reauth: null });
}

/** Sign out on the server, then here. */
export async function signOut() {
  try { await api("DELETE", "/api/session"); } catch { /* signed out already */ }
  signedOutHere();
}

/** One camera the account may see, from a fresh list (a list answers 200 for a camera it
 * may not see, where GET /api/cameras/{id} answers 404, which the browser logs as an error). */
export async function findCamera(id, signal) {
  const found = (await loadCameras(signal)).find((c) => c.id === id);
  if (!found) throw Object.assign(new Error("No such camera, or it is not shared with you."), { status: 404 });
  return found;
}
