// Times and durations as people read them.

const TIME = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const DAY = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
const FULL = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** "14:05", "Yesterday 14:05" or "Mon 3 Nov 14:05" for a time (ISO string or Date). */
export function when(value, now = new Date()) {
  if (!value) return "";
  const date = value instanceof Date ? value : new Date(value);
  const days = Math.round((startOfDay(now) - startOfDay(date)) / 86400000);
  if (days === 0) return TIME.format(date);
  if (days === 1) return `Yesterday ${TIME.format(date)}`;
  return `${DAY.format(date)} ${TIME.format(date)}`;
}

/** The full date and time (for a tooltip or the raw view). */
export function exactly(value) {
  return value ? FULL.format(new Date(value)) : "";
}

function startOfDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/** "40 s", "3 min", "1 h 5 min" for a number of seconds. */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

/** "0:07", "12:34", "1:02:03": a call's running time. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

/** A day heading for a list: "Today", "Yesterday" or the date. */
export function dayLabel(value, now = new Date()) {
  const date = new Date(value);
  const days = Math.round((startOfDay(now) - startOfDay(date)) / 86400000);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  return DAY.format(date);
}
