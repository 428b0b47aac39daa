// Hash routes (#/page/arg). Each route mounts its own view (keyed by the path), and views tie
// their fetches to that mount (load.js): a slow page that answers late can never replace a newer one.
import { useEffect, useState } from "./html.js";

/** The route in a location hash: {page, arg, path}. */
export function parseHash(hash) {
  const path = hash.replace(/^#\/?/, "");
  const parts = path.split("/").map((part) => {
    try { return decodeURIComponent(part); } catch { return ""; }
  });
  return { page: parts[0] || "cameras", arg: parts[1] || null, path };
}

/** Go to a hash route; `replace` leaves no history entry (redirects). */
export function go(hash, { replace = false } = {}) {
  if (location.hash === hash) return;
  if (replace) location.replace(hash);
  else location.hash = hash;
}

/** A hook: the current route, updated on every hash change. */
export function useRoute() {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    let shown = parseHash(location.hash);
    const onChange = () => {
      const next = parseHash(location.hash);
      // A new page opens at its top, not where the last one was scrolled to.
      if (next.page !== shown.page || next.arg !== shown.arg) window.scrollTo(0, 0);
      shown = next;
      setRoute(next);
    };
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

/** The hash of a page about one thing (a camera, a call). */
export function href(page, arg) {
  return arg === undefined || arg === null ? `#/${page}` : `#/${page}/${encodeURIComponent(arg)}`;
}

/** Go to `hash` only if the person is still on `page` (an answer that arrives after they moved
 * on must not pull them back). */
export function goFrom(page, hash) {
  if (parseHash(location.hash).page === page) go(hash);
}
