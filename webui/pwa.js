// The installable app and this device's Web Push subscription, for the views to use.
// No framework: plain functions over the service worker, PushManager and the gateway's API.
// Events on window: "doorstep:install-change" when canInstall() may have changed.
import { api } from "./api.js";

const STATE_CACHE = "doorstep-state";  // shared with sw.js, which re-subscribes on its own
const PUSH_STATE = "/__doorstep/push-subscription.json";

let installPrompt = null;

window.addEventListener("beforeinstallprompt", (event) => {
  event.preventDefault();  // the app shows its own Install button instead of the browser's bar
  installPrompt = event;
  window.dispatchEvent(new Event("doorstep:install-change"));
});
window.addEventListener("appinstalled", () => {
  installPrompt = null;
  window.dispatchEvent(new Event("doorstep:install-change"));
});

/** Whether the page runs as the installed app (home screen / app window), not a browser tab. */
export function isInstalled() {
  return window.matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
}

/** Whether this is an iPhone or iPad (iPadOS reports itself as a Mac with a touch screen). */
export function isIos() {
  return /iPad|iPhone|iPod/.test(navigator.userAgent)
    || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
}

/** Whether installApp() can show the browser's install dialog now (Chromium, Android). */
export function canInstall() {
  return installPrompt !== null;
}

/** Show the browser's install dialog: "accepted", "dismissed" or "unavailable". */
export async function installApp() {
  const prompt = installPrompt;
  if (!prompt) return "unavailable";
  installPrompt = null;  // a prompt can be used once
  window.dispatchEvent(new Event("doorstep:install-change"));
  await prompt.prompt();
  return (await prompt.userChoice).outcome;
}

function onWorkerMessage(event) {
  const message = event.data;
  if (!message || message.type !== "doorstep:navigate" || typeof message.url !== "string") return;
  const url = new URL(message.url, location.href);
  if (url.origin !== location.origin) return;
  if (url.pathname === location.pathname) location.hash = url.hash;  // no reload: a call survives
  else location.assign(url.href);
}

/** Register /sw.js for the whole app (scope "/"); null where the browser has no service workers. */
export async function registerServiceWorker() {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return null;
  navigator.serviceWorker.removeEventListener("message", onWorkerMessage);  // once, however often called
  navigator.serviceWorker.addEventListener("message", onWorkerMessage);
  navigator.serviceWorker.startMessages();
  try {
    return await navigator.serviceWorker.register("/sw.js", { scope: "/", updateViaCache: "none" });
  } catch (error) {
    console.warn("Doorstep: the service worker did not register:", error);
    return null;
  }
}

const WORDS = {
  "supported": "This device can show a notification when someone rings, even when Doorstep is closed.",
  "needs-https": "Notifications need a secure connection: open Doorstep at its https:// address (or on this computer at http://localhost).",
  "needs-install": "On iPhone and iPad, add Doorstep to the Home Screen first (Share, then Add to Home Screen), open it from there and turn notifications on in the app. This needs iOS 16.4 or newer.",
  "denied": "Notifications are blocked for Doorstep in this browser. Allow them in the site settings (the icon next to the address), then try again.",
  "unsupported": "This browser cannot receive push notifications.",
  "off": "The owner has turned push notifications off on this gateway.",
  "subscribe-failed": "This browser would not set up notifications. Private and incognito windows cannot receive them, nor can browsers without their maker's push service (some Android phones without Google services, Brave with Google services off): try a normal window of Chrome, Firefox, Edge or Safari.",
};

/** What this browser alone allows, without asking the gateway: {state, message}. */
export function browserPushSupport() {
  let state = "supported";
  if (!window.isSecureContext) state = "needs-https";
  else if (isIos() && !isInstalled()) state = "needs-install";
  else if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) state = "unsupported";
  else if (Notification.permission === "denied") state = "denied";
  return { state, message: WORDS[state] };
}

/** What is possible here, gateway included: {state, message}, state one of supported,
 * needs-https, needs-install, denied, unsupported, off (the owner turned push off); rejects
 * with the API's error when the gateway cannot be asked. */
export async function pushSupport() {
  const browser = browserPushSupport();
  if (browser.state !== "supported") return browser;
  const key = await api("GET", "/api/push/key");
  return key.enabled ? browser : { state: "off", message: WORDS.off };
}

function base64UrlToBytes(value) {
  const base64 = value.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

function sameBytes(buffer, bytes) {
  if (!buffer) return false;
  const view = new Uint8Array(buffer);
  return view.length === bytes.length && view.every((b, i) => b === bytes[i]);
}

async function readState() {
  const response = await (await caches.open(STATE_CACHE)).match(PUSH_STATE);
  return response ? response.json() : null;
}

async function writeState(state) {
  const cache = await caches.open(STATE_CACHE);
  if (state === null) await cache.delete(PUSH_STATE);
  else await cache.put(PUSH_STATE, new Response(JSON.stringify(state), { headers: { "Content-Type": "application/json" } }));
}

async function registration() {
  const existing = await navigator.serviceWorker.getRegistration("/");
  return existing || await registerServiceWorker() || Promise.reject(new Error(WORDS.unsupported));
}

/** Turn on notifications for this device (call it from a click): asks for permission,
 * subscribes with the gateway's key and stores the subscription; resolves to the server's record. */
export async function enablePush({ label, prefs }) {
  const support = browserPushSupport();
  if (support.state !== "supported") throw new Error(support.message);
  if (await Notification.requestPermission() !== "granted") throw new Error(WORDS.denied);
  const key = await api("GET", "/api/push/key");
  if (!key.enabled) throw new Error(WORDS.off);
  const serverKey = base64UrlToBytes(key.public_key);
  const reg = await registration();
  let subscription = await reg.pushManager.getSubscription();
  if (subscription && !sameBytes(subscription.options.applicationServerKey, serverKey)) {
    await subscription.unsubscribe();  // made for an older gateway key: the push service would refuse it
    subscription = null;
  }
  if (!subscription) {
    try {
      subscription = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: serverKey });
    } catch (error) {
      // Chromium says "permission denied" even with permission given, e.g. in a private window.
      throw new Error(`${WORDS["subscribe-failed"]} (The browser said: ${error?.message || error}.)`);
    }
  }
  const { endpoint, keys } = subscription.toJSON();
  const previous = await readState();
  const record = await api("POST", "/api/push/subscriptions", { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth }, label, prefs });
  if (previous?.id && previous.id !== record.id) {
    await api("DELETE", `/api/push/subscriptions/${encodeURIComponent(previous.id)}`).catch(() => {});
  }
  await writeState({ id: record.id, label: record.label, prefs: record.prefs, endpoint });
  return record;
}

/** Change a subscription's label or prefs ({label?, prefs?}); resolves to the server's record. */
export async function updatePush(id, changes) {
  const record = await api("PATCH", `/api/push/subscriptions/${encodeURIComponent(id)}`, changes);
  const state = await readState();
  if (state?.id === id) await writeState({ ...state, label: record.label, prefs: record.prefs });
  return record;
}

/** Ask the gateway to send a test notification to a subscription. */
export async function testPush(id) {
  return api("POST", `/api/push/subscriptions/${encodeURIComponent(id)}/test`);
}

/** Remove a subscription (this device's when no id is given); this device also unsubscribes. */
export async function disablePush(id) {
  const state = await readState();
  const target = id ?? state?.id;
  if (target !== undefined && target !== null) {
    try {
      await api("DELETE", `/api/push/subscriptions/${encodeURIComponent(target)}`);
    } catch (error) {
      if (error.status !== 404) throw error;  // already gone is what we wanted
    }
  }
  if (id !== undefined && id !== null && state?.id !== id) return;  // another device's
  await writeState(null);
  const reg = "serviceWorker" in navigator ? await navigator.serviceWorker.getRegistration("/") : null;
  const subscription = reg ? await reg.pushManager.getSubscription() : null;
  if (subscription) await subscription.unsubscribe();
}

/** This device's subscription as the gateway lists it, or null when this device gets no pushes. */
export async function currentSubscription() {
  if (browserPushSupport().state !== "supported") return null;
  const state = await readState();
  const reg = await navigator.serviceWorker.getRegistration("/");
  const subscription = reg ? await reg.pushManager.getSubscription() : null;
  if (!state || !subscription || subscription.endpoint !== state.endpoint) return null;
  const { subscriptions } = await api("GET", "/api/push/subscriptions");
  return subscriptions.find((record) => record.id === state.id) ?? null;
}
