// The frame around every page: the compact top bar, the navigation (a bottom tab bar on a
// phone, a sidebar on a wide screen: one <nav>, placed by CSS), and the short notices.
import { html } from "../lib/html.js";
import { signOut } from "../lib/session.js";
import { useStore } from "../lib/store.js";
import { inHousehold, receivesShares, roleLabel, sendsRequests } from "../lib/words.js";
import { Icon } from "./icons.js";
import { SETTINGS_PAGES } from "./settings-nav.js";

/** The pages an account reaches, for the navigation. */
export function navItems(me, meta) {
  if (!me) return [];
  const items = [];
  if (!me.must_enroll_totp && inHousehold(meta, me.role)) {
    items.push({ page: "cameras", label: "Cameras", icon: "camera" }, { page: "activity", label: "Activity", icon: "activity" },
      { page: "clips", label: "Clips", icon: "film" });
  }
  if (!me.must_enroll_totp && me.role === "owner") {
    items.push({ page: "shares", label: "Shares", icon: "send" }, { page: "requests", label: "Requests", icon: "lock" },
      { page: "users", label: "Users", icon: "users" },
      { page: "audit", label: "Audit", icon: "audit" });
  }
  if (!me.must_enroll_totp && receivesShares(meta, me.role)) items.push({ page: "shared", label: "Shared with me", icon: "film" });
  if (!me.must_enroll_totp && sendsRequests(meta, me.role)) items.push({ page: "footage", label: "Requests", icon: "send" });
  items.push({ page: "settings", label: "Settings", icon: "settings" });
  return items;
}

/** The top bar: brand, who is signed in, sign out. */
export function Topbar({ me, meta }) {
  return html`<header class="topbar">
    <a class="brand" href="#/cameras"><img src="/static/icon.svg" alt="" width="28" height="28" /><span>Doorstep</span></a>
    ${me ? html`<div class="account">
      <span class="who"><span class="who-name">${me.username}</span><span class="who-role">${roleLabel(meta, me.role)}</span></span>
      <button id="signout" type="button" class="ghost" onClick=${signOut}>
        <${Icon} name="signout" /><span class="label">Sign out</span></button>
    </div>` : null}
  </header>`;
}

/** The navigation between pages; `page` is highlighted. */
export function Nav({ items, page }) {
  const current = page === "camera" || page === "live" ? "cameras" : page === "events" ? "activity"
    : SETTINGS_PAGES.has(page) ? "settings" : page;
  return html`<nav class="tabs" aria-label="Pages">
    ${items.map((item) => html`<a href=${`#/${item.page}`} class="tab" aria-current=${item.page === current ? "page" : null}>
      <${Icon} name=${item.icon} size=${22} /><span>${item.label}</span></a>`)}
  </nav>`;
}

/** A short message over the page ("Answered by Alice"). */
export function Notice() {
  const notice = useStore((s) => s.notice);
  return html`<div class="notice" role="status" aria-live="polite" hidden=${!notice}>${notice ? notice.text : ""}</div>`;
}
