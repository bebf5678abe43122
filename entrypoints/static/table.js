// The queue table. Only the rows in sight (and a few around them) are in the
// document, so thousands of tasks scroll as lightly as twenty; spacer rows above
// and below keep the scroll bar true to the whole list.
import * as fmt from "./format.js";
import { TERMINAL } from "./store.js";

const ROW_HEIGHT = 44;
const OVERSCAN = 8;
const COLUMNS = 10;
const FLASH_MS = 2000;

export class QueueTable {
  constructor(scroller, body, { onOpen, onCopy }) {
    this.scroller = scroller;
    this.body = body;
    this.onOpen = onOpen;
    this.onCopy = onCopy;
    this.rows = [];
    this.selected = null;
    this.fresh = new Set();
    this.drawn = new Map();
    this.top = spacer();
    this.bottom = spacer();
    scroller.addEventListener("scroll", () => this.scheduleDraw(), { passive: true });
    body.addEventListener("click", (event) => this._clicked(event));
    body.addEventListener("keydown", (event) => {
      const row = event.target.closest("tr[data-task-id]");
      if (row && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        this.onOpen(row.dataset.taskId);
      }
    });
  }

  setRows(rows) {
    this.rows = rows;
    this.draw();
  }

  // Marks a task so that its row flashes once when it is next drawn.
  highlight(id) { this.fresh.add(id); }

  select(id) {
    this.selected = id;
    this.draw();
  }

  scheduleDraw() {
    if (this._pending) return;
    this._pending = requestAnimationFrame(() => { this._pending = 0; this.draw(); });
  }

  // Rows are kept per task and redrawn only when what they show changed, so a
  // row under the pointer stays the same element while updates stream in.
  draw() {
    const height = this.scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.rows.length, first + Math.ceil(height / ROW_HEIGHT) + 2 * OVERSCAN);
    const now = new Date();
    const kept = new Map();
    const wanted = [];
    for (let index = first; index < last; index += 1) {
      const task = this.rows[index];
      const tr = this.drawn.get(task.id) || this._newRow(task.id);
      this._fill(tr, task, now);
      kept.set(task.id, tr);
      wanted.push(tr);
    }
    this.drawn = kept;
    this.top.firstChild.style.height = first * ROW_HEIGHT + "px";
    this.bottom.firstChild.style.height = (this.rows.length - last) * ROW_HEIGHT + "px";
    const current = this.body.children;
    const same = current.length === wanted.length + 2
      && wanted.every((tr, index) => current[index + 1] === tr);
    if (!same) this.body.replaceChildren(this.top, ...wanted, this.bottom);
  }

  _newRow(id) {
    const tr = document.createElement("tr");
    tr.dataset.taskId = id;
    tr.tabIndex = 0;
    return tr;
  }

  _fill(tr, task, now) {
    const running = task.status === "running";
    const signature = [task.version, task.status, task.percent, task.type,
      task.submitted_at, task.started_at, task.finished_at, task.attempts,
      task.cancel_requested, task.retry_at, task.id === this.selected,
      running ? Math.floor(now.getTime() / 1000) : 0].join("|");
    if (this.fresh.delete(task.id)) {
      tr.classList.add("fresh");
      setTimeout(() => tr.classList.remove("fresh"), FLASH_MS);
    }
    if (tr.dataset.signature === signature) return;
    tr.dataset.signature = signature;
    tr.dataset.status = task.status || "";
    tr.classList.toggle("selected", task.id === this.selected);
    tr.replaceChildren(
      idCell(task.id),
      textCell(fmt.typeLabel(task.type), "type"),
      statusCell(task),
      progressCell(task),
      timeCell(task.submitted_at, now),
      timeCell(task.started_at, now),
      timeCell(task.finished_at, now),
      textCell(fmt.duration(fmt.taskDuration(task, now.getTime())), "num"),
      textCell(task.attempts ? String(task.attempts) : "", "num"),
      textCell(fmt.actorLabel(task.submitted_by), "by", task.submitted_by),
    );
  }

  _clicked(event) {
    const copy = event.target.closest("button.copy");
    if (copy) {
      event.stopPropagation();
      this.onCopy(copy.dataset.copy, copy);
      return;
    }
    const row = event.target.closest("tr[data-task-id]");
    if (row) this.onOpen(row.dataset.taskId);
  }
}

function spacer() {
  const tr = document.createElement("tr");
  tr.className = "spacer";
  tr.setAttribute("aria-hidden", "true");
  const td = document.createElement("td");
  td.colSpan = COLUMNS;
  tr.appendChild(td);
  return tr;
}

function textCell(text, className, title) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  if (title) td.title = title;
  return td;
}

function idCell(id) {
  const td = document.createElement("td");
  td.className = "id";
  const code = document.createElement("code");
  code.textContent = fmt.shortId(id);
  code.title = id;
  const box = document.createElement("div");
  box.className = "id-box";
  box.append(code, copyButton(id));
  td.appendChild(box);
  return td;
}

export function copyButton(text) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy";
  button.dataset.copy = text;
  button.title = "Copy the full task id";
  button.setAttribute("aria-label", "Copy task id " + text);
  button.appendChild(copyIcon());
  return button;
}

const SVG = "http://www.w3.org/2000/svg";

export function copyIcon() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("width", "14");
  svg.setAttribute("height", "14");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", "M5.5 5.5h7v7h-7z M3.5 10.5v-7h7");
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", "currentColor");
  path.setAttribute("stroke-width", "1.4");
  path.setAttribute("stroke-linejoin", "round");
  svg.appendChild(path);
  return svg;
}

export function statusBadge(task) {
  const span = document.createElement("span");
  const status = task.status || "unknown";
  span.className = "status " + status;
  span.textContent = fmt.STATUS_LABELS[status] || status;
  return span;
}

// The status, and beside it what is pending: a requested cancel, a planned retry.
function statusCell(task) {
  const td = document.createElement("td");
  td.className = "status-cell";
  td.appendChild(statusBadge(task));
  if (task.cancel_requested && !TERMINAL.has(task.status)) {
    td.appendChild(tag("cancel requested", "pending-cancel"));
  } else if (task.status === "queued" && task.retry_at) {
    td.appendChild(tag("retry " + fmt.shortTime(task.retry_at), "retry",
      "Next attempt at " + fmt.fullTime(task.retry_at)));
  }
  return td;
}

function tag(text, className, title) {
  const span = document.createElement("span");
  span.className = "tag " + className;
  span.textContent = text;
  if (title) span.title = title;
  return span;
}

export function progressBar(task) {
  const percent = Math.max(0, Math.min(100, Number(task.percent) || 0));
  const wrap = document.createElement("div");
  wrap.className = "progress " + (task.status || "");
  wrap.dataset.percent = String(Math.round(percent));
  wrap.setAttribute("role", "progressbar");
  wrap.setAttribute("aria-valuenow", String(Math.round(percent)));
  wrap.setAttribute("aria-valuemin", "0");
  wrap.setAttribute("aria-valuemax", "100");
  const track = document.createElement("div");
  track.className = "track";
  const fill = document.createElement("div");
  fill.className = "fill";
  fill.style.width = percent + "%";
  track.appendChild(fill);
  const label = document.createElement("span");
  label.className = "percent";
  label.textContent = Math.round(percent) + "%";
  wrap.append(track, label);
  return wrap;
}

function progressCell(task) {
  const td = document.createElement("td");
  td.appendChild(progressBar(task));
  return td;
}

function timeCell(iso, now) {
  const td = document.createElement("td");
  td.className = "time";
  if (iso) {
    const time = document.createElement("time");
    time.dateTime = iso;
    time.textContent = fmt.shortTime(iso, now);
    time.title = fmt.fullTime(iso);
    td.appendChild(time);
  }
  return td;
}
