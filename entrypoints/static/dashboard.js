// The queue page: wires the store, the sync, the table, the detail panel, the
// chart and the operator's actions together. Renders are coalesced: a burst of
// updates redraws the page at most ten times a second.
import { request } from "./api.js";
import { TaskDetail } from "./detail.js";
import * as fmt from "./format.js";
import { STATUSES, TaskStore, TERMINAL } from "./store.js";
import { QueueSync } from "./sync.js";
import { copyIcon, QueueTable } from "./table.js";
import { ThroughputChart } from "./throughput.js";
import { Notices } from "./notices.js";

const TOKEN_KEY = "bldr.operatorToken";
const MIN_RENDER_GAP_MS = 100;
const $ = (id) => document.getElementById(id);

const store = new TaskStore();
const view = { status: "", type: "", sort: "submitted", descending: true };
const notices = new Notices($("notices"));
const page = { loaded: false, finished: 0, types: "", renderQueued: false, lastRender: 0 };

const token = () => sessionStorage.getItem(TOKEN_KEY) || "";
const table = new QueueTable($("table-scroll"), $("rows"), { onOpen: openTask, onCopy: copy });
const detail = new TaskDetail($("detail"), store, {
  token, onCopy: copy, onTokenRefused: tokenRefused,
  onClose: () => { table.select(null); history.replaceState(null, "", " "); },
});
const chart = new ThroughputChart($("throughput"), $("throughput-caption"));
const sync = new QueueSync(store, {
  onChange: changed,
  onState: showState,
  onProblem: (key, text) => { notices.problem(key, text); changed(); },
});

function changed() {
  if (page.renderQueued) return;
  page.renderQueued = true;
  const wait = Math.max(0, MIN_RENDER_GAP_MS - (performance.now() - page.lastRender));
  setTimeout(() => requestAnimationFrame(() => {
    page.renderQueued = false;
    page.lastRender = performance.now();
    render();
  }), wait);
}

function render() {
  const summary = store.summary();
  renderCounts(summary);
  renderTypes(summary.types);
  const rows = store.view(view);
  table.setRows(rows);
  renderPlaceholder(rows, summary);
  $("shown").textContent = rows.length === summary.total
    ? `${fmt.count(rows.length)} tasks`
    : `${fmt.count(rows.length)} of ${fmt.count(summary.total)} tasks`;
  detail.refresh();
  const finished = STATUSES.filter((s) => TERMINAL.has(s))
    .reduce((sum, s) => sum + summary.counts[s], 0);
  if (page.loaded && finished > page.finished) chart.soon();
  page.finished = finished;
}

// The chips are made once and updated in place, so a click lands while counts move.
const chips = new Map();
const ALWAYS_SHOWN = new Set(["", "queued", "running", "succeeded", "failed"]);

function renderCounts(summary) {
  if (!chips.size) {
    for (const status of ["", ...STATUSES]) chips.set(status, chip(status));
    $("counts").replaceChildren(...chips.values());
  }
  for (const [status, button] of chips) {
    const n = status ? summary.counts[status] || 0 : summary.total;
    button.querySelector(".value").textContent = fmt.count(n);
    button.hidden = !n && !ALWAYS_SHOWN.has(status) && view.status !== status;
    button.setAttribute("aria-pressed", String(view.status === status));
  }
  renderShare(summary);
  $("waiting").textContent = waiting(summary);
}

// One bar split by status, in proportion to the counts.
function renderShare(summary) {
  const bar = $("share");
  if (bar.children.length !== STATUSES.length) {
    bar.replaceChildren(...STATUSES.map((status) => {
      const part = document.createElement("span");
      part.className = status;
      return part;
    }));
  }
  STATUSES.forEach((status, index) => {
    bar.children[index].style.flexGrow = String(summary.counts[status] || 0);
  });
  bar.hidden = !summary.total;
}

function waiting(summary) {
  const now = Date.now();
  const parts = [];
  if (summary.oldestQueued) {
    parts.push(`Longest waiting: queued ${fmt.ago(fmt.parseTime(summary.oldestQueued), now)}`);
  }
  if (summary.oldestRunning) {
    const running = now - fmt.parseTime(summary.oldestRunning).getTime();
    parts.push(`longest running: ${fmt.duration(running)}`);
  }
  if (!parts.length) return summary.total ? "Nothing is waiting or running." : "";
  return parts.join(" · ");
}

function chip(status) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "count " + (status || "all");
  button.dataset.status = status;
  const value = document.createElement("span");
  value.className = "value";
  const name = document.createElement("span");
  name.className = "label";
  name.textContent = status ? fmt.STATUS_LABELS[status] : "all";
  button.append(value, name);
  button.addEventListener("click", () => {
    view.status = view.status === status ? "" : status;
    $("table-scroll").scrollTop = 0;
    render();
  });
  return button;
}

function renderTypes(types) {
  const key = types.join(",");
  if (key === page.types) return;
  page.types = key;
  const select = $("filter-type");
  const options = [new Option("All types", "")];
  for (const type of types) options.push(new Option(fmt.typeLabel(type), type));
  select.replaceChildren(...options);
  select.value = types.includes(view.type) ? view.type : "";
}

function renderPlaceholder(rows, summary) {
  const box = $("placeholder");
  let text = "";
  if (!summary.total && !page.loaded) {
    text = notices.has("sync") ? "No tasks to show yet: the queue could not be loaded "
      + "(the message above says why). The page keeps trying." : "Loading the queue…";
  } else if (!summary.total) {
    box.replaceChildren(emptyQueue());
    box.hidden = false;
    box.dataset.kind = "empty";
    return;
  } else if (!rows.length) {
    text = "No tasks match these filters. Choose “All” or another type to see more.";
  }
  box.dataset.kind = notices.has("sync") && !summary.total ? "problem" : "info";
  box.textContent = text;
  box.hidden = !text;
}

function emptyQueue() {
  const wrap = document.createElement("div");
  const title = document.createElement("p");
  title.className = "empty-title";
  title.textContent = "The queue is empty.";
  const how = document.createElement("p");
  how.textContent = token()
    ? "Press “Update norms now” to start a norms update, or submit one from a shell:"
    : "Enter the operator token and press “Update norms now” to start a norms "
      + "update, or submit one from a shell:";
  const shell = document.createElement("pre");
  shell.textContent = `curl -X POST -H "Authorization: Bearer $TOKEN" \\\n  ${location.origin}`
    + "/api/v1/commands/norms-update";
  wrap.append(title, how, shell);
  return wrap;
}

const STATE_NAMES = {
  connecting: "Connecting", syncing: "Catching up", live: "Live",
  reconnecting: "Reconnecting", "read-only": "Read-only", refused: "Token refused",
};

function showState(state) {
  if (["live", "read-only", "refused"].includes(state.mode) && state.asOf) page.loaded = true;
  if (state.mode === "refused" && token()) tokenRefused();
  const box = $("connection");
  box.dataset.state = state.mode;
  box.querySelector(".state").textContent = STATE_NAMES[state.mode] || state.mode;
  box.querySelector(".when").textContent = freshness(state);
  changed();
}

// How current the table is, in words.
function freshness(state) {
  const asOf = latest(state.asOf, state.lastChange);
  switch (state.mode) {
    case "syncing":
      if (state.total) {
        return `${fmt.count(state.loaded)} changes read of about `
          + `${fmt.count(state.total)} tasks`;
      }
      return page.loaded ? "reading missed changes" : "loading the queue";
    case "live":
      return `in sync · as of ${fmt.clockTime(asOf)}${behind(state.projection)}`;
    case "reconnecting": {
      const since = asOf || state.lostAt;
      return since ? `showing the queue as of ${fmt.clockTime(since)} `
        + `(${fmt.ago(since)})` : "";
    }
    case "read-only":
    case "refused":
      return asOf ? `refreshed every 15 s · as of ${fmt.clockTime(asOf)}` : "";
    default:
      return "";
  }
}

// The views the API serves lag the stream while the projector catches up.
function behind(projection) {
  if (!projection || !projection.lag_events || projection.lag_s < 2) return "";
  return ` · views ${fmt.count(projection.lag_events)} events behind`;
}

function latest(a, b) {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}

function openTask(id) {
  table.select(id);
  detail.open(id);
  history.replaceState(null, "", "#task=" + encodeURIComponent(id));
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.classList.add("copied");
    button.textContent = "✓";
    setTimeout(() => {
      button.classList.remove("copied");
      button.replaceChildren(copyIcon());
    }, 1200);
  } catch (error) {
    notices.info(`Copying is not allowed here; the task id is ${text}`);
  }
}

// Actions need the operator token; without it the page only reads.
function showOperator() {
  const has = !!token();
  $("token-form").hidden = has;
  $("token-set").hidden = !has;
  const update = $("update-now");
  update.disabled = !has;
  update.title = has ? "Submit a norms update with the configured sources"
    : "Enter the operator token to run actions";
  document.body.classList.toggle("read-only", !has);
  detail.refresh();
  changed();
}

function tokenRefused() {
  sessionStorage.removeItem(TOKEN_KEY);
  showOperator();
}

async function updateNow() {
  const button = $("update-now");
  button.disabled = true;
  button.textContent = "Submitting…";
  try {
    const body = await request("POST", "/api/v1/commands/norms-update", { token: token() });
    notices.problem("action", null);
    notices.info(`Norms update ${fmt.shortId(body.task_id)} submitted.`);
    table.highlight(body.task_id);
  } catch (error) {
    notices.problem("action", `Could not submit the norms update: ${error.explanation}. `
      + "Nothing was submitted.");
    if (error.status === 401) tokenRefused();
  }
  button.textContent = "Update norms now";
  showOperator();
}

function sortBy(header) {
  const sort = header.dataset.sort;
  view.descending = view.sort === sort ? !view.descending : true;
  view.sort = sort;
  for (const th of document.querySelectorAll("th[data-sort]")) {
    th.setAttribute("aria-sort", th.dataset.sort !== sort ? "none"
      : view.descending ? "descending" : "ascending");
  }
  render();
}

function wire() {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    $("token").value = "";
    notices.problem("socket", null);
    showOperator();
    sync.start(token());
  });
  $("forget-token").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showOperator();
    sync.start("");
  });
  $("update-now").addEventListener("click", updateNow);
  $("filter-type").addEventListener("change", (event) => {
    view.type = event.target.value;
    render();
  });
  for (const th of document.querySelectorAll("th[data-sort]")) {
    th.addEventListener("click", () => sortBy(th));
  }
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") detail.close();
  });
  window.addEventListener("resize", () => { table.scheduleDraw(); detail.place(); });
}

function tick() {
  showState(sync.state);
  if (store.summary().counts.running) table.draw();
  detail.refresh();
}

wire();
$("zone").textContent = fmt.zoneName();
showOperator();
sync.start(token());
chart.start();
setInterval(tick, 1000);
const linked = /^#task=(.+)$/.exec(location.hash);
if (linked) openTask(decodeURIComponent(linked[1]));
