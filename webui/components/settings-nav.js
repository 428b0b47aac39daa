// The row of links between the settings pages (account, notifications, outgoing webhooks, the
// gateway's settings): one tab in the main navigation, several pages behind it.
import { html } from "../lib/html.js";
import { useStore } from "../lib/store.js";
import { inHousehold } from "../lib/words.js";
import { Icon } from "./icons.js";

/** The settings pages an account reaches (the first is the Settings page itself). */
export function settingsPages(me, meta) {
  if (!me || me.must_enroll_totp) return [];
  const pages = [{ page: "settings", label: "Account", icon: "person" }];
  if (inHousehold(meta, me.role)) pages.push({ page: "notifications", label: "Notifications", icon: "bell" });
  if (me.role === "owner") {
    pages.push({ page: "webhooks", label: "Webhooks", icon: "send" }, { page: "gateway", label: "Gateway", icon: "home" },
      { page: "sharing", label: "Sharing", icon: "home" });
  }
  return pages;
}

/** The pages behind the Settings tab: the main navigation highlights Settings on each. */
export const SETTINGS_PAGES = new Set(["settings", "notifications", "webhooks", "gateway", "sharing"]);

/** The links, `page` marked as the current one; nothing when there is only one page. */
export function SettingsNav({ page }) {
  const me = useStore((s) => s.me);
  const meta = useStore((s) => s.meta);
  const pages = settingsPages(me, meta);
  if (pages.length < 2) return null;
  return html`<nav class="subnav" aria-label="Settings pages">
    ${pages.map((p) => html`<a href=${`#/${p.page}`} class="subnav-link" aria-current=${p.page === page ? "page" : null}>
      <${Icon} name=${p.icon} size=${18} /><span>${p.label}</span></a>`)}
  </nav>`;
}
