// A task's history as a timeline. A norms update can record thousands of norm
// events, so a run of them becomes one entry with counts per kind and the codes
// behind a fold.
import * as fmt from "./format.js";

const NORM_EVENT = /^Norm/;
const CODES_SHOWN = 300;

// ``history`` is {events, skipped, gapAt}: ``skipped`` events left out before
// index ``gapAt``.
export function timeline({ events, skipped = 0, gapAt = 0 }) {
  const list = document.createElement("ol");
  list.className = "timeline";
  if (!events || !events.length) {
    list.appendChild(item("muted", "", "No events recorded yet."));
    return list;
  }
  for (const group of grouped(events, skipped ? gapAt : -1)) {
    if (group.gap) {
      list.appendChild(item("gap", "", `… ${fmt.count(skipped)} more events, `
        + "in /api/v1/tasks/{id}/events …"));
    } else {
      list.appendChild(group.norms ? normEntry(group.norms) : taskEntry(group.event));
    }
  }
  return list;
}

function grouped(events, gapAt) {
  const groups = [];
  for (const [index, event] of events.entries()) {
    if (index === gapAt) groups.push({ gap: true });
    const last = groups[groups.length - 1];
    if (NORM_EVENT.test(event.type)) {
      if (last && last.norms) last.norms.push(event);
      else groups.push({ norms: [event] });
    } else {
      groups.push({ event });
    }
  }
  return groups;
}

function taskEntry(event) {
  const li = item("event " + kindOf(event.type), event.at, fmt.eventLabel(event.type));
  li.dataset.type = event.type;
  const detail = describe(event);
  if (detail) li.appendChild(line("detail", detail));
  const meta = [`version ${event.version}`];
  const actor = fmt.actorLabel(event.actor);
  if (actor && actor !== "system" && actor !== (event.data || {}).worker) meta.push(actor);
  li.appendChild(line("meta", meta.join(" · ")));
  const trace = event.data && event.data.trace;
  if (trace) li.appendChild(fold("Traceback", pre(trace)));
  return li;
}

function normEntry(events) {
  const byType = {};
  for (const event of events) byType[event.type] = (byType[event.type] || 0) + 1;
  const summary = Object.entries(byType)
    .map(([type, n]) => `${fmt.count(n)} ${fmt.eventLabel(type).toLowerCase()}`)
    .join(", ");
  const title = `${fmt.count(events.length)} norm event${events.length === 1 ? "" : "s"}`;
  const li = item("event norms", events[0].at, title);
  li.dataset.type = "norms";
  li.appendChild(line("detail", summary));
  const codes = events.slice(0, CODES_SHOWN).map((e) => {
    const data = e.data || {};
    const extra = data.superseded_by ? ` → ${data.superseded_by}` : "";
    return `${fmt.eventLabel(e.type).padEnd(11)} ${data.code || ""}${extra}`;
  });
  if (events.length > CODES_SHOWN) {
    codes.push(`… and ${fmt.count(events.length - CODES_SHOWN)} more`);
  }
  li.appendChild(fold("Norms", pre(codes.join("\n"))));
  return li;
}

// The facts of an event worth a line of their own.
function describe(event) {
  const d = event.data || {};
  switch (event.type) {
    case "TaskSubmitted":
      return [d.task_type && fmt.typeLabel(d.task_type), d.priority && `priority ${d.priority}`]
        .filter(Boolean).join(", ");
    case "TaskStarted":
      return `attempt ${d.attempt || 1}` + (d.worker ? ` on ${d.worker}` : "");
    case "TaskProgressed":
      return `${Math.round(d.percent || 0)}%`
        + (d.total ? ` (${fmt.count(d.done)} of ${fmt.count(d.total)})` : "");
    case "TaskSucceeded":
      return d.report && d.report.added !== undefined
        ? `added ${fmt.count(d.report.added)}, changed ${fmt.count(d.report.changed)}`
        : "";
    case "TaskCancelRequested":
      return d.reason || "";
    case "TaskRetryScheduled":
      return `${d.error_type || "Error"}: ${d.message || ""}`
        + (d.retry_at ? ` — next attempt ${fmt.fullTime(d.retry_at)}` : "");
    default:
      if (d.error_type || d.message) return `${d.error_type || "Error"}: ${d.message || ""}`;
      return "";
  }
}

function kindOf(type) {
  if (/Failed|DeadLettered/.test(type)) return "bad";
  if (/Succeeded/.test(type)) return "good";
  if (/Cancel/.test(type)) return "cancel";
  return "plain";
}

function item(className, at, title) {
  const li = document.createElement("li");
  li.className = className;
  if (at) {
    const time = document.createElement("time");
    time.dateTime = at;
    time.textContent = fmt.shortTime(at);
    time.title = fmt.fullTime(at);
    li.appendChild(time);
  }
  li.appendChild(line("title", title));
  return li;
}

function line(className, text) {
  const div = document.createElement("div");
  div.className = className;
  div.textContent = text;
  return div;
}

function pre(text) {
  const node = document.createElement("pre");
  node.textContent = text;
  return node;
}

function fold(label, content) {
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = label;
  details.append(summary, content);
  return details;
}
