// Doorstep web UI: a small hash-routed app on plain ES modules (no build step).
import { api } from "./api.js";
import { h, show } from "./dom.js";
import { RingBanner } from "./ring.js";
import { setupView, settingsView, signInView } from "./views/account.js";
import { auditView, usersView } from "./views/admin.js";
import { cameraView, camerasView } from "./views/cameras.js";
import { eventsView } from "./views/events.js";
import { hangUpCurrent, liveView } from "./views/live.js";

const state = { me: null, stream: null };
const HOUSEHOLD = ["owner", "resident"];  // the roles that reach cameras at all
const inHousehold = () => state.me && HOUSEHOLD.includes(state.me.role);
const live = { onEvent: null, onState: null };
const ring = new RingBanner(document.getElementById("ring"));

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function startStream() {
  if (state.stream || !inHousehold()) return;
  const stream = new EventSource("/api/events/stream");
  stream.addEventListener("camera-event", (message) => {
    const event = JSON.parse(message.data);
    if (event.kind === "doorbell" && event.active === true && !event.initial) ring.ring(event);
    if (live.onEvent) live.onEvent(event);
  });
  stream.addEventListener("camera-state", (message) => {
    if (live.onState) live.onState(JSON.parse(message.data));
  });
  stream.addEventListener("error", () => {
    // EventSource reconnects by itself; a signed-out session gets a 401 and stays closed.
    if (stream.readyState === EventSource.CLOSED) state.stream = null;
  });
  state.stream = stream;
}

function stopStream() {
  if (state.stream) state.stream.close();
  state.stream = null;
}

async function refreshMe() {
  state.me = await api("GET", "/api/session");
  const nav = document.getElementById("nav");
  nav.hidden = false;
  for (const link of nav.querySelectorAll("[data-owner]")) link.hidden = state.me.role !== "owner";
  for (const link of nav.querySelectorAll("[data-household]")) link.hidden = !inHousehold();
  if (state.me.must_enroll_totp || !inHousehold()) return;  // no cameras for this account
  const { cameras } = await api("GET", "/api/cameras").catch(() => ({ cameras: [] }));
  ring.names = Object.fromEntries(cameras.map((c) => [c.id, c.name]));
}

function signedOut() {
  hangUpCurrent();
  state.me = null;
  stopStream();
  document.getElementById("nav").hidden = true;
  ring.dismiss();
}

async function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const page = parts[0] || "cameras";
  const arg = parts[1];
  if (page !== "live") hangUpCurrent();  // leaving a call's page ends the call
  try {
    if (page === "setup") {
      const { needed } = await api("GET", "/api/setup");
      if (needed) return setupView(async () => { await refreshMe(); go("#/settings"); });
      return go("#/signin");
    }
    if (page === "signin") {
      signedOut();
      return signInView(async () => { await refreshMe(); startStream(); go(state.me.must_enroll_totp || !inHousehold() ? "#/settings" : "#/cameras"); });
    }
    if (!state.me) {
      const { needed } = await api("GET", "/api/setup");
      if (needed) return go("#/setup");
      await refreshMe();
    }
    if (state.me.must_enroll_totp && page !== "settings") return go("#/settings");
    // Neighbours and agencies reach no camera, event or live page: their account page only.
    if (!inHousehold() && page !== "settings") return go("#/settings");
    if (!state.me.must_enroll_totp) startStream();
    switch (page) {
      case "camera": return await cameraView(arg, state.me);
      case "live": return await liveView(arg);
      case "events": return await eventsView(live);
      case "users": return await usersView(state.me, route);
      case "audit": return await auditView();
      case "settings": return await settingsView(state.me, async () => { await refreshMe(); go("#/cameras"); });
      default: return await camerasView(state.me, route, live);
    }
  } catch (err) {
    if (err.status === 401) return go("#/signin");
    show(h("h1", {}, "Something went wrong"), h("p", { class: "error" }, err.message));
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("doorstep:signed-out", () => { if (state.me) { signedOut(); go("#/signin"); } });
document.getElementById("signout").addEventListener("click", async () => {
  try { await api("DELETE", "/api/session"); } finally { signedOut(); go("#/signin"); }
});
route();
