// The page's copy of the queue: one record per task, merged from snapshot pages,
// catch-up pages and live updates, in whatever order they arrive.
//
// Every row carries the task's version. Live updates are partial (only what
// changed), so a newer version overwrites the fields it names and an older or
// equal one only fills in fields the record lacks: a late row never undoes a
// newer state, and a task first seen through a partial update still gets its
// type and times when its full row arrives.

export const STATUSES = [
  "queued", "running", "succeeded", "failed", "cancelled", "dead_lettered",
];
export const TERMINAL = new Set(["succeeded", "failed", "cancelled", "dead_lettered"]);
const JSON_FIELDS = ["report", "error", "arguments"];

// Stream positions are "<milliseconds>-<sequence>"; compare them as numbers.
export function comparePositions(a, b) {
  if (a === b) return 0;
  if (!a) return -1;
  if (!b) return 1;
  const [aMs, aSeq] = a.split("-").map(Number);
  const [bMs, bSeq] = b.split("-").map(Number);
  return aMs - bMs || aSeq - bSeq;
}

export function laterPosition(a, b) {
  return comparePositions(a, b) >= 0 ? a : b;
}

function decoded(row) {
  const record = Object.assign({}, row);
  record.id = row.task_id || row.id;
  delete record.task_id;
  for (const name of JSON_FIELDS) {
    if (typeof record[name] === "string" && record[name]) {
      try { record[name] = JSON.parse(record[name]); } catch (e) { /* keep text */ }
    }
  }
  return record;
}

const SORTS = {
  submitted: (t) => t.submitted_at || "",
  started: (t) => t.started_at || "",
  finished: (t) => t.finished_at || "",
};

export class TaskStore {
  constructor() {
    this.tasks = new Map();
    this.revision = 0;
    this._cache = null;
  }

  get size() { return this.tasks.size; }
  get(id) { return this.tasks.get(id); }

  // Merge one row; true when the record changed.
  merge(row) {
    const update = decoded(row);
    if (!update.id) return false;
    const known = this.tasks.get(update.id);
    if (!known) {
      this.tasks.set(update.id, update);
      return this._changed();
    }
    if ((update.version || 0) > (known.version || 0)) {
      Object.assign(known, update);
      return this._changed();
    }
    let filled = false;
    for (const [name, value] of Object.entries(update)) {
      if (!(name in known)) { known[name] = value; filled = true; }
    }
    return filled ? this._changed() : false;
  }

  remove(id) {
    if (this.tasks.delete(id)) this._changed();
  }

  _changed() {
    this.revision += 1;
    return true;
  }

  // Counts per status, the types seen, and the longest waiting and running
  // tasks, over every task held.
  summary() {
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    const types = new Set();
    let oldestQueued = "";
    let oldestRunning = "";
    for (const task of this.tasks.values()) {
      if (task.status) counts[task.status] = (counts[task.status] || 0) + 1;
      if (task.type) types.add(task.type);
      if (task.status === "queued" && earlier(task.submitted_at, oldestQueued)) {
        oldestQueued = task.submitted_at;
      }
      if (task.status === "running" && earlier(task.started_at, oldestRunning)) {
        oldestRunning = task.started_at;
      }
    }
    return { counts, types: Array.from(types).sort(), total: this.tasks.size,
      oldestQueued, oldestRunning };
  }

  // The tasks that pass the filter, sorted; cached until something changes.
  view({ status = "", type = "", sort = "submitted", descending = true } = {}) {
    const key = [this.revision, status, type, sort, descending].join("|");
    if (this._cache && this._cache.key === key) return this._cache.rows;
    const field = SORTS[sort] || SORTS.submitted;
    const rows = [];
    for (const task of this.tasks.values()) {
      if (status && task.status !== status) continue;
      if (type && task.type !== type) continue;
      rows.push(task);
    }
    rows.sort((a, b) => compareBy(field, a, b, descending));
    this._cache = { key, rows };
    return rows;
  }
}

function earlier(time, than) {
  return !!time && (!than || time < than);
}

// Tasks without the time sort last either way; ties fall back to the id.
function compareBy(field, a, b, descending) {
  const x = field(a);
  const y = field(b);
  if (x === y) return a.id < b.id ? -1 : 1;
  if (!x) return 1;
  if (!y) return -1;
  return (x < y ? -1 : 1) * (descending ? -1 : 1);
}
