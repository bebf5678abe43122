// The queue page: a snapshot from /api/v1/queue, then live updates over Socket.IO.
// Every update carries the task's version; an older version never overwrites a newer.
(function () {
  "use strict";
  const tasks = new Map();
  const el = (id) => document.getElementById(id);
  let socket = null;

  function token() { return sessionStorage.getItem("bldr-token") || ""; }

  function say(text, isError) {
    el("message").textContent = text;
    el("message").className = isError ? "error" : "";
  }

  function merge(update) {
    const id = update.task_id || update.id;
    const known = tasks.get(id);
    if (known && known.version >= update.version) return;
    tasks.set(id, Object.assign({}, known || {}, update, { id: id }));
  }

  function time(value) {
    return value ? new Date(value).toLocaleString() : "";
  }

  function row(task) {
    const tr = document.createElement("tr");
    tr.dataset.taskId = task.id;
    const cells = [
      task.id.slice(0, 8), task.type || "", null,
      null, time(task.submitted_at), time(task.finished_at), task.submitted_by || "",
    ];
    cells.forEach((text, index) => {
      const td = document.createElement("td");
      if (index === 2) {
        const span = document.createElement("span");
        span.className = "status " + task.status;
        span.textContent = task.status;
        td.appendChild(span);
      } else if (index === 3) {
        const bar = document.createElement("progress");
        bar.max = 100;
        bar.value = task.percent || 0;
        td.appendChild(bar);
        td.appendChild(document.createTextNode(" " + Math.round(task.percent || 0) + "%"));
      } else {
        td.textContent = text;
      }
      if (index === 0) td.title = task.id;
      tr.appendChild(td);
    });
    return tr;
  }

  function render() {
    const sorted = Array.from(tasks.values()).sort(
      (a, b) => (b.submitted_at || "").localeCompare(a.submitted_at || ""));
    el("rows").replaceChildren(...sorted.slice(0, 500).map(row));
    el("empty").hidden = sorted.length > 0;
    const counts = {};
    sorted.forEach((t) => { counts[t.status] = (counts[t.status] || 0) + 1; });
    el("counts").replaceChildren(...Object.entries(counts).map(([status, n]) => {
      const span = document.createElement("span");
      span.textContent = status + ": " + n;
      return span;
    }));
  }

  let pending = false;
  function renderSoon() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; render(); });
  }

  async function loadSnapshot() {
    try {
      const response = await fetch("/api/v1/queue?limit=500");
      if (!response.ok) throw new Error((await response.json()).description);
      const page = await response.json();
      page.tasks.forEach(merge);
      renderSoon();
    } catch (error) {
      say("Could not load the queue (" + error.message + "); retrying in 5 s.", true);
      setTimeout(loadSnapshot, 5000);
    }
  }

  function setConnection(state) {
    el("connection").textContent = state;
    el("connection").className = "badge " + state;
  }

  function connect() {
    if (socket) socket.disconnect();
    if (!token()) { setConnection("read-only"); return; }
    socket = io({ auth: { token: token() } });
    socket.on("connect", () => { setConnection("connected"); say(""); loadSnapshot(); });
    socket.on("disconnect", () => setConnection("reconnecting"));
    socket.on("connect_error", (error) => {
      setConnection("reconnecting");
      say("Live updates unavailable: " + error.message, true);
    });
    socket.on("tasks", (batch) => { batch.tasks.forEach(merge); renderSoon(); });
  }

  async function updateNow() {
    const response = await fetch("/api/v1/commands/norms-update", {
      method: "POST", headers: { Authorization: "Bearer " + token() },
    });
    const body = await response.json();
    if (!response.ok) { say(body.title + ": " + body.description, true); return; }
    say("Submitted task " + body.task_id.slice(0, 8));
  }

  el("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("bldr-token", el("token").value.trim());
    el("token").value = "";
    el("update-now").disabled = !token();
    connect();
  });
  el("update-now").addEventListener("click", updateNow);
  el("update-now").disabled = !token();
  loadSnapshot();
  connect();
})();
