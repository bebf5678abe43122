// How values read on the page: times in the viewer's own time zone, durations,
// counts, and the names of statuses, task types and events.

const TIME = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit", minute: "2-digit", second: "2-digit",
});
const DAY_AND_TIME = new Intl.DateTimeFormat(undefined, {
  day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
});
const FULL = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric",
  hour: "2-digit", minute: "2-digit", second: "2-digit",
  fractionalSecondDigits: 3, timeZoneName: "short",
});
const MINUTE = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const NUMBER = new Intl.NumberFormat();

export const STATUS_LABELS = {
  queued: "queued", running: "running", succeeded: "succeeded", failed: "failed",
  cancelled: "cancelled", dead_lettered: "dead-lettered",
};

const TYPE_LABELS = { update_norms: "Norms update" };

// The stream writes times with microseconds; Date keeps milliseconds.
export function parseTime(iso) {
  if (!iso) return null;
  const date = new Date(String(iso).replace(/(\.\d{3})\d+/, "$1"));
  return Number.isNaN(date.getTime()) ? null : date;
}

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth()
    && a.getDate() === b.getDate();
}

// Today's times as hh:mm:ss; older ones with their day.
export function shortTime(iso, now = new Date()) {
  const date = parseTime(iso);
  if (!date) return "";
  return sameDay(date, now) ? TIME.format(date) : DAY_AND_TIME.format(date);
}

export function clockTime(date) { return date ? TIME.format(date) : ""; }
export function minuteLabel(date) { return MINUTE.format(date); }

export function fullTime(iso) {
  const date = parseTime(iso);
  return date ? FULL.format(date) : "";
}

export function zoneName() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
  const offset = -new Date().getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "−";
  const hours = Math.floor(Math.abs(offset) / 60);
  const minutes = Math.abs(offset) % 60;
  return `${zone} (UTC${sign}${hours}${minutes ? ":" + String(minutes).padStart(2, "0") : ""})`;
}

export function duration(ms) {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return "";
  if (ms < 1000) return Math.round(ms) + " ms";
  if (ms < 10_000) return (ms / 1000).toFixed(1) + " s";
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return seconds + " s";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

// How long a task ran, or has been running until ``now``.
export function taskDuration(task, now = Date.now()) {
  const started = parseTime(task.started_at);
  if (!started) return null;
  const finished = parseTime(task.finished_at);
  return (finished ? finished.getTime() : now) - started.getTime();
}

export function ago(date, now = Date.now()) {
  if (!date) return "";
  const seconds = Math.max(0, Math.round((now - date.getTime()) / 1000));
  if (seconds < 5) return "just now";
  if (seconds < 60) return seconds + " s ago";
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? minutes + " min ago" : Math.round(minutes / 60) + " h ago";
}

export function count(n) { return NUMBER.format(n || 0); }

export function typeLabel(type) {
  if (!type) return "—";
  return TYPE_LABELS[type] || type.replace(/_/g, " ");
}

// "token:operator" was recorded for the token named operator, "worker:<name>" for
// a worker process.
export function actorLabel(actor) {
  if (!actor) return "";
  const match = /^(token|worker):(.+)$/.exec(actor);
  return match ? match[2] : actor;
}

// "TaskCancelRequested" reads as "Cancel requested".
export function eventLabel(type) {
  const words = String(type).replace(/^Task/, "").replace(/([a-z])([A-Z])/g, "$1 $2");
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}

export function shortId(id) { return String(id || "").slice(0, 8); }
