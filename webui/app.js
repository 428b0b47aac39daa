// Doorstep's web UI: Preact + htm, no build step. The app shell, the route → page decision
// (sign-in, setup, second factor first, household and owner pages) and the start-up.
import { setIdentityPrompt } from "./lib/api.js";
import { html, render, useEffect } from "./lib/html.js";
import { go, parseHash, useRoute } from "./lib/router.js";
import { boot, refreshMe, signedOutHere } from "./lib/session.js";
import { store, useStore } from "./lib/store.js";
import { inHousehold, receivesShares, sendsRequests } from "./lib/words.js";
import { askIdentity, ReauthDialog } from "./components/dialogs.js";
import { RingBanner } from "./components/ring-banner.js";
import { Nav, navItems, Notice, Topbar } from "./components/shell.js";
import { Loading } from "./components/ui.js";
import { ActivityView } from "./views/activity.js";
import { AgencyView } from "./views/agency.js";
import { AuditView } from "./views/audit.js";
import { CameraView } from "./views/camera.js";
import { CamerasView } from "./views/cameras.js";
import { ClipsView } from "./views/clips.js";
import { GatewaySettingsView } from "./views/gateway-settings.js";
import { LiveView } from "./views/live.js";
import { NotFoundView, OwnerOnlyView, UnreachableView } from "./views/misc.js";
import { NotificationsView } from "./views/notifications.js";
import { RequestsView } from "./views/requests.js";
import { SettingsView } from "./views/settings.js";
import { SharedView } from "./views/shared.js";
import { SharesView } from "./views/shares.js";
import { SharingSettingsView } from "./views/sharing-settings.js";
import { SetupView } from "./views/setup.js";
import { SignInView } from "./views/signin.js";
import { UsersView } from "./views/users.js";
import { WebhooksView } from "./views/webhooks.js";
import { registerServiceWorker } from "./pwa.js";

const PAGES = {
  cameras: { view: CamerasView, title: "Cameras" },
  camera: { view: CameraView, title: "Camera" },
  live: { view: LiveView, title: "Live" },
  activity: { view: ActivityView, title: "Activity" },
  events: { view: ActivityView, title: "Activity" },  // the old name of the page
  clips: { view: ClipsView, title: "Clips" },
  users: { view: UsersView, title: "Users", owner: true },
  audit: { view: AuditView, title: "Audit log", owner: true },
  settings: { view: SettingsView, title: "Settings" },
  notifications: { view: NotificationsView, title: "Notifications" },
  webhooks: { view: WebhooksView, title: "Webhooks", owner: true },
  gateway: { view: GatewaySettingsView, title: "Gateway settings", owner: true },
  shares: { view: SharesView, title: "Shares", owner: true },
  sharing: { view: SharingSettingsView, title: "Sharing settings", owner: true },
  shared: { view: SharedView, title: "Shared with me", recipient: true },
  requests: { view: RequestsView, title: "Police requests", owner: true },
  footage: { view: AgencyView, title: "Footage requests", agency: true },
};

/** What a route shows for this session: {redirect} or {view, props, title}. */
export function decide(route, { session, me, meta }) {
  const { page } = route;
  if (session === "unknown") return { view: null, title: "Doorstep" };
  if (session === "unreachable") return { view: UnreachableView, title: "Doorstep", bare: true };
  if (page === "setup" && session === "setup") return { view: SetupView, title: "Welcome" };
  if (page === "setup") return { redirect: session === "signed-in" ? "#/settings" : "#/signin" };
  // Accounts made on the console can sign in before the first owner exists.
  if (page === "signin") return { view: SignInView, title: "Sign in", bare: true };
  if (session === "setup") return { redirect: "#/setup" };
  if (session !== "signed-in" || !me) return { redirect: "#/signin" };
  const mustSettle = me.must_enroll_totp || me.must_change_password;
  if (mustSettle && page !== "settings") return { redirect: "#/settings" };
  // Which page is an account's own depends on its role's words: wait for them.
  if (!meta && !inHousehold(meta, me.role)) return { view: null, title: "Doorstep" };
  const recipient = receivesShares(meta, me.role);
  const agency = sendsRequests(meta, me.role);
  const own = (recipient && page === "shared") || (agency && page === "footage");
  if (!inHousehold(meta, me.role) && page !== "settings" && !own) {
    return { redirect: recipient ? "#/shared" : agency ? "#/footage" : "#/settings" };
  }
  const known = PAGES[page];
  if (!known) return { view: NotFoundView, title: "Not found" };
  if (known.owner && me.role !== "owner") return { view: OwnerOnlyView, props: { title: known.title }, title: known.title };
  if (known.recipient && !recipient) return { view: NotFoundView, title: "Not found" };
  if (known.agency && !agency) return { view: NotFoundView, title: "Not found" };
  const props = page === "camera" || page === "live" ? { id: route.arg } : page === "activity" || page === "clips" ? { cameraId: route.arg } : {};
  return { view: known.view, props, title: known.title };
}

function App() {
  const route = useRoute();
  const session = useStore((s) => s.session);
  const me = useStore((s) => s.me);
  const meta = useStore((s) => s.meta);
  const decision = decide(route, { session, me, meta });
  useEffect(() => {
    // Only for the route it was decided for: a navigation made meanwhile (after sign-in) wins.
    if (decision.redirect && parseHash(location.hash).path === route.path) go(decision.redirect, { replace: true });
  }, [decision.redirect, route.path]);
  useEffect(() => { document.title = decision.title && decision.title !== "Doorstep" ? `${decision.title} · Doorstep` : "Doorstep"; }, [decision.title]);
  const signedIn = session === "signed-in" && me && !decision.bare;
  const items = signedIn ? navItems(me, meta) : [];
  const withNav = items.length > 1;  // one page only (a neighbour's account): no tabs
  const View = decision.view;
  return html`<div class=${`shell page-${route.page}${withNav ? " with-nav" : ""}`}>
    <a class="skip" href="#view" onClick=${(e) => { e.preventDefault(); document.getElementById("view")?.focus(); }}>Skip to content</a>
    <${Topbar} me=${signedIn ? me : null} meta=${meta} />
    ${withNav ? html`<${Nav} items=${items} page=${route.page} />` : null}
    <${RingBanner} />
    <main id="view" tabindex="-1">
      ${View ? html`<${View} key=${route.path} ...${decision.props || {}} />` : html`<${Loading} text="Loading Doorstep…" />`}
    </main>
    <${Notice} />
    <${ReauthDialog} />
  </div>`;
}

setIdentityPrompt(askIdentity);
window.addEventListener("doorstep:signed-out", () => { if (store.get().session === "signed-in") signedOutHere(); });
window.addEventListener("doorstep:enroll", () => { refreshMe().then(() => go("#/settings")).catch(() => {}); });

const root = document.getElementById("app");
boot({ probe: parseHash(location.hash).page !== "signin" })
  .catch((err) => store.set({ session: "unreachable", bootError: err.message }));
root.replaceChildren();
render(html`<${App} />`, root);
registerServiceWorker();
