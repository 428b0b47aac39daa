// Doorstep's service worker: the app shell offline, and Web Push notifications.
// Served at /sw.js (scope "/") by gateway/web/pwa.py, which stamps VERSION and SHELL below:
// VERSION is a hash of every UI file, so any change to the UI installs a new worker with a fresh
// cache holding one consistent set of files. /api/ is never cached: its data is always live.
"use strict";

const VERSION = "__VERSION__";
const SHELL = ["__SHELL__"].filter((path) => path.startsWith("/"));  // unstamped: nothing
const CACHE_PREFIX = "doorstep-shell-";
const CACHE = CACHE_PREFIX + VERSION;
const STATE_CACHE = "doorstep-state";  // this device's push subscription (shared with pwa.js)
const PUSH_STATE = "/__doorstep/push-subscription.json";  // a cache key only; never fetched
const ICON = "/static/icon-192.png";
const BADGE = "/static/badge-96.png";
const FALLBACK_URL = "/#/cameras";
const RING_KINDS = new Set(["ring", "doorbell"]);
const MAX_TITLE = 120;
const MAX_BODY = 400;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // "no-cache": revalidate with the server, so the HTTP cache cannot hand us an older file.
    await cache.addAll(SHELL.map((path) => new Request(path, { cache: "no-cache" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

/** Whether a request is for the app shell (the page and its /static/ files), never the API. */
function isShell(url) {
  if (url.origin !== self.location.origin) return false;
  if (url.pathname.startsWith("/api/")) return false;
  return url.pathname === "/" || url.pathname === "/manifest.webmanifest" || url.pathname.startsWith("/static/");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (!isShell(url)) return;  // the API and everything else: the network, untouched
  event.respondWith(fromShell(request, url));
});

/** Cache first (the cache is this version's complete shell), else the network. */
async function fromShell(request, url) {
  const cache = await caches.open(CACHE);
  const key = url.pathname;  // the page's routes live in the hash; a "?…" changes no shell file
  const cached = await cache.match(key);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && SHELL.includes(key)) await cache.put(key, response.clone());
  return response;
}

/** The path a notification opens: one on this gateway (never the API), else the cameras page. */
function clickTarget(data) {
  const raw = data && typeof data.url === "string" ? data.url : FALLBACK_URL;
  let url;
  try {
    url = new URL(raw, self.location.origin);
  } catch {
    url = new URL(FALLBACK_URL, self.location.origin);
  }
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return FALLBACK_URL;
  return url.pathname + url.search + url.hash;
}

/** A same-origin path from the payload (for the snapshot image), or undefined. */
function sameOriginPath(value) {
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//")) return undefined;
  return value;
}

function text(value, limit) {
  return typeof value === "string" ? value.slice(0, limit) : "";
}

/** The notification for a push message's data: a generic "Doorstep" one for anything unreadable. */
function notificationFor(data) {
  let message = null;
  try {
    message = data ? data.json() : null;
  } catch {
    message = null;
  }
  if (!message || typeof message !== "object" || Array.isArray(message)) message = {};
  const ring = RING_KINDS.has(message.kind);
  const title = text(message.title, MAX_TITLE) || "Doorstep";
  const options = {
    body: text(message.body, MAX_BODY) || (title === "Doorstep" ? "Something happened at your door." : ""),
    icon: ICON,
    badge: BADGE,
    data: { url: clickTarget(message), camera_id: text(message.camera_id, 64), kind: text(message.kind, 32) },
    requireInteraction: ring,
  };
  const image = sameOriginPath(message.image);
  if (image) options.image = image;
  const when = Date.parse(message.time);
  if (Number.isFinite(when)) options.timestamp = when;
  const tag = text(message.tag, 128);
  if (tag) {
    options.tag = tag;
    options.renotify = ring;  // a second press rings again; renotify needs a tag
  }
  if (ring) options.vibrate = [300, 150, 300, 150, 600];
  return { title, options };
}

self.addEventListener("push", (event) => {
  const { title, options } = notificationFor(event.data);
  event.waitUntil(self.registration.showNotification(title, options));
});

/** Bring an open Doorstep window to the front on `url`, or open a new one there. */
async function openOrFocus(url) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const ours = windows.filter((client) => new URL(client.url).origin === self.location.origin);
  const client = ours.find((c) => c.focused) || ours.find((c) => c.visibilityState === "visible") || ours[0];
  if (!client) return self.clients.openWindow(url);
  await client.focus().catch(() => {});  // only allowed while handling a click
  // The page moves itself (pwa.js): a hash change, no reload, so a call in progress survives.
  client.postMessage({ type: "doorstep:navigate", url });
  return client;
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openOrFocus(clickTarget(event.notification.data)));
});

function base64UrlToBytes(value) {
  const base64 = value.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

async function readPushState() {
  const response = await (await caches.open(STATE_CACHE)).match(PUSH_STATE);
  return response ? response.json() : null;
}

/** A state-changing API call as the server wants it: JSON, same-origin, with the session. */
async function sendJson(method, path, body) {
  return fetch(path, {
    method, credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify(body ?? {}),
  });
}

/** The push service replaced this device's subscription: register the new one with the gateway. */
async function resubscribe(fresh) {
  const saved = await readPushState();
  if (!saved) return;  // this device never opted in (or opted out)
  let subscription = fresh;
  if (!subscription) {
    const response = await fetch("/api/push/key", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const key = await response.json();
    if (!key.enabled) return;
    subscription = await self.registration.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: base64UrlToBytes(key.public_key),
    });
  }
  const { endpoint, keys } = subscription.toJSON();
  const created = await sendJson("POST", "/api/push/subscriptions", {
    endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth }, label: saved.label, prefs: saved.prefs,
  });
  if (!created.ok) return;  // e.g. signed out: the app asks again when it is next opened
  const record = await created.json();
  if (saved.id && saved.id !== record.id) {
    await sendJson("DELETE", `/api/push/subscriptions/${encodeURIComponent(saved.id)}`).catch(() => {});
  }
  const state = { id: record.id, label: record.label, prefs: record.prefs, endpoint };
  await (await caches.open(STATE_CACHE)).put(PUSH_STATE, new Response(JSON.stringify(state), {
    headers: { "Content-Type": "application/json" },
  }));
}

self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil(resubscribe(event.newSubscription).catch(() => {}));
});
