// The task detail panel: what the task is and did (its report and errors in full),
// its history from /api/v1/tasks/{id}/events, and the Cancel action. It follows the
// live record while open and reloads the history when the task's version moves.
import { ApiError, getJson, request } from "./api.js";
import * as fmt from "./format.js";
import { TERMINAL } from "./store.js";
import { copyButton, progressBar, statusBadge } from "./table.js";
import { timeline } from "./timeline.js";

const RELOAD_DELAY_MS = 400;
const HISTORY_FIRST = 2000;
const HISTORY_LAST = 200;

export class TaskDetail {
  constructor(panel, store, { token, onClose, onCopy, onTokenRefused }) {
    this.panel = panel;
    this.store = store;
    this.token = token;
    this.onClose = onClose;
    this.onCopy = onCopy;
    this.onTokenRefused = onTokenRefused;
    this.id = null;
    this.loaded = null;
    this.cancelNote = null;
    this._drawn = {};
    panel.querySelector(".close").addEventListener("click", () => this.close());
    panel.addEventListener("click", (event) => {
      const copy = event.target.closest("button.copy");
      if (copy) this.onCopy(copy.dataset.copy, copy);
    });
  }

  open(id) {
    this.id = id;
    this.loaded = null;
    this.cancelNote = null;
    this._drawn = {};
    this.place();
    this.panel.hidden = false;
    this.panel.dataset.taskId = id;
    this.render();
    this._load(id);
    this.panel.querySelector(".close").focus({ preventScroll: true });
  }

  // Below the top bar, so the token and the actions stay within reach.
  place() {
    const bar = document.querySelector(".topbar");
    this.panel.style.top = (bar ? Math.max(0, bar.getBoundingClientRect().bottom) : 0) + "px";
  }

  close() {
    if (this.id === null) return;
    this.id = null;
    this.panel.hidden = true;
    delete this.panel.dataset.taskId;
    clearTimeout(this._reload);
    this.onClose();
  }

  // Called after every change to the store.
  refresh() {
    if (this.id === null) return;
    const record = this.store.get(this.id);
    const version = record ? record.version : 0;
    if (this.loaded && version > this.loaded.version && !this._reload) {
      this._reload = setTimeout(() => { this._reload = 0; this._load(this.id); },
        RELOAD_DELAY_MS);
    }
    this.render();
  }

  async _load(id) {
    try {
      const [task, history] = await Promise.all([
        getJson(`/api/v1/tasks/${encodeURIComponent(id)}`), loadHistory(id),
      ]);
      if (id !== this.id) return;
      this.loaded = { version: task.version, task, history, error: null };
    } catch (error) {
      if (id !== this.id) return;
      this.loaded = { version: 0, task: null, history: null, error };
    }
    this.render();
  }

  // The live record, with the folded state from the API where it is as new.
  _task() {
    const api = this.loaded && this.loaded.task;
    const record = Object.assign({}, this.store.get(this.id) || fromApi(api, this.id));
    if (api && api.version >= (record.version || 0)) {
      for (const name of ["report", "error", "arguments", "cancel_requested",
        "cancel_reason", "worker", "priority", "correlation_id", "waiting"]) {
        if (api[name] !== undefined && api[name] !== null) record[name] = api[name];
      }
    }
    return record;
  }

  // Summary and facts follow the live record; the report, errors and history
  // are redrawn only when they change, so open details stay open.
  render() {
    if (this.id === null) return;
    const task = this._task();
    const slots = this._slots();
    const live = [task.version, task.status, task.percent, task.cancel_requested,
      this.cancelNote && this.cancelNote.text, this._cancelling, !!this.token(),
      task.status === "running" ? Math.floor(Date.now() / 1000) : 0].join("|");
    if (live !== this._drawn.live) {
      this._drawn.live = live;
      this.panel.querySelector(".detail-title").replaceChildren(
        document.createTextNode(fmt.typeLabel(task.type) + " "),
        code(fmt.shortId(task.id)), copyButton(task.id));
      slots.summary.replaceChildren(this._summary(task));
      slots.facts.replaceChildren(facts(task));
    }
    if (this._drawn.loaded !== this.loaded || this._drawn.report !== task.report
        || this._drawn.error !== task.error) {
      Object.assign(this._drawn, { loaded: this.loaded, report: task.report,
        error: task.error });
      slots.error.replaceChildren(errorSection(task.error));
      slots.report.replaceChildren(reportSection(task.report));
      slots.history.replaceChildren(this._history());
    }
  }

  _slots() {
    const body = this.panel.querySelector(".detail-body");
    if (!this._slotNodes) {
      this._slotNodes = {};
      for (const name of ["summary", "facts", "error", "report", "history"]) {
        this._slotNodes[name] = body.appendChild(element("div", "slot-" + name));
      }
    }
    return this._slotNodes;
  }

  _summary(task) {
    const section = element("section", "summary");
    const line = element("div", "summary-line");
    line.append(statusBadge(task), progressBar(task));
    section.append(line, cancelState(task, this.cancelNote), this._cancelButton(task));
    return section;
  }

  // Shown while the task can still be stopped; disabled without the token.
  _cancelButton(task) {
    const button = element("button", "danger cancel-task", "Cancel task");
    button.type = "button";
    const token = this.token();
    const finished = TERMINAL.has(task.status);
    button.hidden = finished;
    const requested = task.cancel_requested || (this.cancelNote && this.cancelNote.ok);
    button.disabled = !token || finished || requested || this._cancelling;
    button.title = !token ? "Enter the operator token to cancel tasks"
      : finished ? "The task has finished" : requested ? "Cancellation already requested" : "";
    if (this._cancelling) button.textContent = "Requesting…";
    button.addEventListener("click", () => this._cancel(task.id));
    return button;
  }

  async _cancel(id) {
    this._cancelling = true;
    this.render();
    try {
      await request("POST", `/api/v1/tasks/${encodeURIComponent(id)}/cancel`,
        { token: this.token() });
      this.cancelNote = { ok: true, text: "Cancellation requested. The task stops at "
        + "its next safe point; its status then turns to cancelled." };
    } catch (error) {
      this.cancelNote = { ok: false, text: cancelFailure(error) };
      if (error.status === 401) this.onTokenRefused(error);
    }
    this._cancelling = false;
    if (id === this.id) this.render();
  }

  _history() {
    const section = element("section", "history");
    section.appendChild(element("h3", "", "History"));
    if (!this.loaded) {
      section.appendChild(element("p", "muted", "Loading the task's events…"));
    } else if (this.loaded.error) {
      const what = this.loaded.error instanceof ApiError
        ? this.loaded.error.explanation : this.loaded.error.message;
      section.appendChild(element("p", "problem",
        `Could not load the history: ${what}. It is loaded again when the task changes; `
        + "close and reopen the panel to retry now."));
    } else {
      section.appendChild(timeline(this.loaded.history));
    }
    return section;
  }
}

// The first events and the last ones: a long run's ending stays in sight
// however many norm events lie between.
async function loadHistory(id) {
  const path = `/api/v1/tasks/${encodeURIComponent(id)}/events`;
  const first = await getJson(`${path}?limit=${HISTORY_FIRST}`);
  if (first.next_offset === null || first.next_offset === undefined) {
    return { events: first.events, skipped: 0 };
  }
  const from = Math.max(first.next_offset, first.total - HISTORY_LAST);
  const last = await getJson(`${path}?offset=${from}&limit=${HISTORY_LAST}`);
  return { events: first.events.concat(last.events), skipped: from - first.next_offset,
    gapAt: first.events.length };
}

// A task the page does not hold (opened from a link) as the API folds it.
function fromApi(task, id) {
  if (!task) return { id };
  const progress = task.progress || {};
  return Object.assign({}, task, { id, percent: progress.percent,
    done: progress.done, total: progress.total });
}

function cancelFailure(error) {
  if (error.status === 409) return `Not cancelled: ${error.description || error.title}.`;
  if (error.status === 401) return `Not cancelled: the token was refused (${error.description}).`;
  if (error.status === 404 || error.status === 405) {
    return `Not cancelled: ${error.explanation}. This server may not offer cancelling yet.`;
  }
  const what = error instanceof ApiError ? error.explanation : error.message;
  return `Not cancelled: ${what}. Nothing was changed; try again.`;
}

// Requested and effective cancellation read differently.
function cancelState(task, note) {
  const box = element("div", "cancel-state");
  let text = "";
  if (task.status === "cancelled") {
    box.classList.add("effective");
    text = "Cancelled: the task stopped" + (task.finished_at
      ? " at " + fmt.fullTime(task.finished_at) : "") + ".";
  } else if (task.cancel_requested && TERMINAL.has(task.status)) {
    text = `Cancellation was requested, but the task ${fmt.STATUS_LABELS[task.status]} first.`;
  } else if (task.cancel_requested) {
    box.classList.add("requested");
    text = "Cancellation requested; waiting for the task to stop at a safe point.";
  }
  if (task.cancel_reason) text += ` Reason: ${task.cancel_reason}.`;
  if (note && !(note.ok && task.cancel_requested)) {
    box.classList.add(note.ok ? "requested" : "problem");
    text = (text ? text + " " : "") + note.text;
  }
  box.textContent = text;
  box.hidden = !text;
  return box;
}

function facts(task) {
  const now = Date.now();
  const sources = task.arguments && Array.isArray(task.arguments.sources)
    ? task.arguments.sources : [];
  const rows = [
    ["Task id", task.id],
    ["Submitted by", fmt.actorLabel(task.submitted_by)],
    ["Priority", task.priority],
    ["Submitted", fmt.fullTime(task.submitted_at)],
    ["Started", fmt.fullTime(task.started_at)],
    ["Finished", fmt.fullTime(task.finished_at)],
    ["Duration", fmt.duration(fmt.taskDuration(task, now))],
    ["Attempts", task.attempts ? String(task.attempts) : ""],
    ["Next attempt", task.status === "queued" ? fmt.fullTime(task.retry_at) : ""],
    ["Waiting", task.status === "queued" ? task.waiting : ""],
    ["Worker", task.worker],
    ["Retry of", task.retry_of],
    ["Sources", sources.length ? sources.join("\n") : "the configured defaults"],
    ["Version", task.version ? String(task.version) : ""],
  ];
  const list = element("dl", "facts");
  for (const [name, value] of rows) {
    if (!value) continue;
    list.append(element("dt", "", name), element("dd", "", value));
  }
  return list;
}

function errorSection(error) {
  const section = element("section", "error-box");
  if (!error || (typeof error === "object" && !Object.keys(error).length)) {
    section.hidden = true;
    return section;
  }
  section.appendChild(element("h3", "", "Error"));
  if (typeof error === "string") {
    section.appendChild(element("pre", "", error));
    return section;
  }
  section.appendChild(element("p", "error-type", error.type || "Error"));
  section.appendChild(element("pre", "error-message", error.message || ""));
  if (error.trace) {
    const details = element("details");
    details.append(element("summary", "", "Traceback"), element("pre", "", error.trace));
    section.appendChild(details);
  }
  return section;
}

const REPORT_CARDS = [
  ["added", "Added"], ["changed", "Changed"], ["unchanged", "Unchanged"],
  ["duplicates", "Duplicates"], ["rejected", "Rejected"],
];
const REPORT_SHOWN = new Set([...REPORT_CARDS.map(([k]) => k), "changed_by_kind"]);
const REJECTED_SHOWN = 200;

function reportSection(report) {
  const section = element("section", "report");
  if (!report || !Object.keys(report).length) {
    section.hidden = true;
    return section;
  }
  section.appendChild(element("h3", "", "Report"));
  const cards = element("div", "cards");
  for (const [key, label] of REPORT_CARDS) {
    if (!(key in report)) continue;
    const value = Array.isArray(report[key]) ? report[key].length : report[key];
    const card = element("div", "card " + key);
    card.dataset.key = key;
    card.append(element("span", "value", fmt.count(value)), element("span", "label", label));
    if (key === "changed" && report.changed_by_kind) {
      const kinds = Object.entries(report.changed_by_kind).filter(([, n]) => n)
        .map(([kind, n]) => `${kind} ${fmt.count(n)}`).join(" · ");
      if (kinds) card.appendChild(element("span", "sub", kinds));
    }
    cards.appendChild(card);
  }
  section.appendChild(cards);
  section.appendChild(otherFacts(report));
  if (Array.isArray(report.rejected) && report.rejected.length) {
    section.appendChild(rejectedTable(report.rejected));
  }
  return section;
}

const REPORT_FACTS = { rows: "Rows read", elapsed_s: "Time taken" };

function otherFacts(report) {
  const list = element("dl", "facts compact");
  for (const [key, value] of Object.entries(report)) {
    if (REPORT_SHOWN.has(key) || value === null || typeof value === "object") continue;
    const shown = key === "elapsed_s" ? fmt.duration(value * 1000)
      : typeof value === "number" ? fmt.count(value) : String(value);
    const name = REPORT_FACTS[key]
      || key.charAt(0).toUpperCase() + key.slice(1).replace(/_/g, " ");
    list.append(element("dt", "", name), element("dd", "", shown));
  }
  return list;
}

function rejectedTable(rejected) {
  const table = element("table", "rejected");
  const head = element("tr");
  for (const name of ["Line", "Reason", "Source"]) head.appendChild(element("th", "", name));
  table.appendChild(element("thead")).appendChild(head);
  const body = table.appendChild(element("tbody"));
  for (const row of rejected.slice(0, REJECTED_SHOWN)) {
    const tr = element("tr");
    tr.append(element("td", "num", String(row.line ?? "")),
      element("td", "", row.reason || ""),
      element("td", "source", String(row.source || "").split("/").pop()));
    tr.lastChild.title = row.source || "";
    body.appendChild(tr);
  }
  if (rejected.length > REJECTED_SHOWN) {
    const more = rejected.length - REJECTED_SHOWN;
    const tr = element("tr");
    const td = element("td", "muted", `and ${fmt.count(more)} more rows, in the API's report`);
    td.colSpan = 3;
    body.appendChild(tr).appendChild(td);
  }
  return table;
}

export function element(tag, className = "", text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function code(text) { return element("code", "", text); }
