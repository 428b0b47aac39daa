// The icon set: 24×24 line drawings inline as SVG (no icon font, no requests), coloured by
// currentColor and hidden from screen readers (the text next to them names the action).
import { html } from "../lib/html.js";

const PATHS = {
  camera: ["M3 7.5h3l1.6-2.5h8.8L18 7.5h3v11H3z", "M12 16.5a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z"],
  activity: ["M3 12h4l2.5-6 5 12 2.5-6h4"],
  users: ["M9 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z", "M2.5 20c.6-3.6 3.2-5.5 6.5-5.5s5.9 1.9 6.5 5.5",
    "M16 4.3a3.5 3.5 0 0 1 0 6.4", "M18 14.8c2 .7 3.2 2.4 3.5 5.2"],
  audit: ["M6 3h9l4 4v14H6z", "M14.5 3v4.5H19", "M9 12h6", "M9 16h6"],
  settings: ["M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z",
    "M19.4 13.5l1.6 1.2-2 3.4-1.9-.7a7.6 7.6 0 0 1-2.2 1.3L14.6 21h-4l-.3-2.3a7.6 7.6 0 0 1-2.2-1.3l-1.9.7-2-3.4 1.6-1.2a7.8 7.8 0 0 1 0-2.9L4.2 9.4l2-3.4 1.9.7a7.6 7.6 0 0 1 2.2-1.3L10.6 3h4l.3 2.3a7.6 7.6 0 0 1 2.2 1.3l1.9-.7 2 3.4-1.6 1.2a7.8 7.8 0 0 1 0 3z"],
  signout: ["M10 4H5v16h5", "M15 8l4 4-4 4", "M19 12H9"],
  bell: ["M6 16V11a6 6 0 0 1 12 0v5l1.5 2h-15z", "M10 20.5a2.2 2.2 0 0 0 4 0"],
  mic: ["M12 14.5a3 3 0 0 0 3-3v-5a3 3 0 0 0-6 0v5a3 3 0 0 0 3 3z", "M6 11a6 6 0 0 0 12 0", "M12 17v4"],
  hangup: ["M3.5 13.5c4.7-4.2 12.3-4.2 17 0l-2.1 2.6-3.2-1.3v-2.3a10 10 0 0 0-6.4 0v2.3l-3.2 1.3z"],
  phone: ["M5 3.5h3.5l1.5 4.5-2.2 1.5a11 11 0 0 0 6.7 6.7l1.5-2.2 4.5 1.5V19a1.5 1.5 0 0 1-1.6 1.5C10.5 20 4 13.5 3.5 5.1A1.5 1.5 0 0 1 5 3.5z"],
  sound: ["M4 9.5h3.5L12 5.5v13l-4.5-4H4z", "M15.5 9a4 4 0 0 1 0 6", "M18 6.5a7.5 7.5 0 0 1 0 11"],
  muted: ["M4 9.5h3.5L12 5.5v13l-4.5-4H4z", "M16 9.5l5 5", "M21 9.5l-5 5"],
  expand: ["M4 9V4h5", "M20 9V4h-5", "M4 15v5h5", "M20 15v5h-5"],
  shrink: ["M9 4v5H4", "M15 4v5h5", "M9 20v-5H4", "M15 20v-5h5"],
  plus: ["M12 5v14", "M5 12h14"],
  trash: ["M4 7h16", "M9.5 7V4.5h5V7", "M6.5 7l1 13h9l1-13"],
  back: ["M15 5l-7 7 7 7"],
  chevron: ["M9 5l7 7-7 7"],
  close: ["M6 6l12 12", "M18 6L6 18"],
  check: ["M5 12.5l4.5 4.5L19 7.5"],
  alert: ["M12 3.5l9.5 16.5h-19z", "M12 10v4.5", "M12 17.2v.3"],
  offline: ["M3 3l18 18", "M8.5 8.8A8 8 0 0 0 5 11", "M12 6a11 11 0 0 1 9 4", "M8.5 14.5a5 5 0 0 1 6.2-.6", "M12 18.5v.2"],
  lock: ["M6 11h12v9.5H6z", "M8.5 11V8a3.5 3.5 0 0 1 7 0v3"],
  live: ["M3 6.5h12v11H3z", "M15 10.5l6-3.5v10l-6-3.5z"],
  search: ["M10.5 17.5a7 7 0 1 0 0-14 7 7 0 0 0 0 14z", "M15.5 15.5L21 21"],
  motion: ["M4 12a8 8 0 0 1 8-8", "M20 12a8 8 0 0 1-8 8", "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z"],
  person: ["M12 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z", "M5 20.5c.8-4 3.5-6 7-6s6.2 2 7 6"],
  play: ["M8 5.5v13l10.5-6.5z"],
  film: ["M4 5h16v14H4z", "M8 5v14", "M16 5v14", "M4 9h4", "M4 15h4", "M16 9h4", "M16 15h4"],
  download: ["M12 4v11", "M7.5 10.5L12 15l4.5-4.5", "M5 19.5h14"],
  dot: ["M12 13.5a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3z"],
  home: ["M4 11l8-6.5 8 6.5", "M6.5 9.5v10h11v-10"],
  key: ["M8 15.5a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z", "M11.5 12H21", "M17.5 12v3", "M20 12v2"],
  send: ["M4 12l16-7.5-5.5 16-3-6.5z", "M11.5 14L20 4.5"],
  copy: ["M8.5 8.5h11v11h-11z", "M15.5 8.5v-4h-11v11h4"],
  sliders: ["M4 7h9", "M17 7h3", "M15 5v4", "M4 17h3", "M11 17h9", "M9 15v4", "M4 12h13", "M19 10v4"],
};

/** One icon by name (see PATHS); `label` makes it speak, otherwise it is decoration. */
export function Icon({ name, label, size = 20, class: className = "" }) {
  const paths = PATHS[name] || PATHS.dot;
  return html`<svg class=${`icon ${className}`} width=${size} height=${size} viewBox="0 0 24 24" fill="none"
    stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"
    aria-hidden=${label ? null : "true"} role=${label ? "img" : null} aria-label=${label || null} focusable="false">
    ${paths.map((d) => html`<path d=${d} />`)}</svg>`;
}

/** The icon for an event kind in the activity feed. */
export function kindIcon(kind) {
  return { doorbell: "bell", motion: "motion", person: "person", audio: "sound", tamper: "alert" }[kind] || "activity";
}
