// Keeps the store current.
//
// Live updates arrive over Socket.IO (only for a page with the operator token).
// The REST catch-up, /api/v1/queue?since=<position>, is what the page trusts: the
// watermark is the stream position up to which the page is sure it holds every
// change, and it only moves when a catch-up has read to the end. A catch-up runs
// on every (re)connection and every half minute while connected, so a change
// whose live emit was lost, or that happened while the page was away, still
// arrives. A gap longer than RELOAD_AFTER_MS reloads the whole queue instead, and
// drops tasks the server no longer has.
import { ApiError, getJson } from "./api.js";
import { laterPosition } from "./store.js";

const PAGE = 500;
const RELOAD_AFTER_MS = 10 * 60 * 1000;
const CHECK_EVERY_MS = 30 * 1000;
const POLL_EVERY_MS = 15 * 1000;
const RETRY_MS = [1000, 2000, 5000, 10000, 15000];

export class QueueSync {
  constructor(store, { onChange, onState, onProblem }) {
    this.store = store;
    this.onChange = onChange;
    this.onState = onState;
    this.onProblem = onProblem;
    this.watermark = null;
    this.syncedAt = 0;
    this.generation = 0;
    this.socket = null;
    this.timer = null;
    this.state = { mode: "connecting", asOf: null, lastChange: null, loaded: 0, total: 0 };
  }

  // With a token: live updates plus catch-ups. Without: catch-ups on a timer.
  start(token) {
    this.stop();
    this.refused = false;
    this.token = token;
    if (token) this._connect(token);
    else this._poll(this.generation);
  }

  stop() {
    this.generation += 1;
    clearTimeout(this.timer);
    if (this.socket) {
      this.socket.removeAllListeners();
      this.socket.disconnect();
      this.socket = null;
    }
  }

  _connect(token) {
    const socket = io({
      auth: { token }, reconnectionDelay: 1000, reconnectionDelayMax: 5000,
    });
    this.socket = socket;
    this._setState({ mode: "connecting" });
    socket.on("connect", () => {
      this.onProblem("socket", null);
      if (this.state.mode !== "live") this._setState({ mode: "syncing" });
      this._check(this.generation);
    });
    socket.on("tasks", (batch) => this._live(batch));
    socket.on("disconnect", (reason) => {
      this._lost();
      this._interrupted(`the connection to the server was lost (${reason})`);
      if (reason === "io server disconnect") socket.connect();
    });
    socket.on("connect_error", (error) => this._connectFailed(socket, error));
    socket.io.on("reconnect_error", (error) => this._interrupted(
      `the server does not answer (${error.message})`));
  }

  _interrupted(what) {
    this.onProblem("socket", `Live updates are interrupted: ${what}. The page `
      + "reconnects by itself and then fetches every change it missed.");
  }

  _connectFailed(socket, error) {
    if (socket.active) {
      this._lost();
      this._interrupted(`the server does not answer (${error.message})`);
      return;
    }
    // Refused by the server, not a network failure: the token is wrong.
    this.stop();
    this.refused = true;
    this.onProblem("socket", "The server refused the live connection "
      + `(${error.message}). The operator token may be wrong: enter it again. Until `
      + "then the page is read-only and refreshes every 15 s.");
    this._setState({ mode: "refused" });
    this._poll(this.generation);
  }

  _live(batch) {
    let changed = false;
    for (const row of batch.tasks || []) changed = this.store.merge(row) || changed;
    if (!changed) return;
    // The projector has moved on since the last catch-up reported its lag.
    this.state.projection = null;
    this.state.lastChange = new Date();
    if (this.state.mode === "live") this.state.asOf = new Date();
    this.onChange();
  }

  // The first loss since the last good catch-up dates the gap.
  _lost() {
    this.generation += 1;
    clearTimeout(this.timer);
    if (this.state.mode !== "reconnecting") {
      this._setState({ mode: "reconnecting", lostAt: this.state.lostAt || new Date() });
    }
  }

  // A catch-up now, then one every CHECK_EVERY_MS while this generation lasts.
  async _check(generation) {
    const done = await this._catchUp(generation);
    if (!done || generation !== this.generation) return;
    this._setState({ mode: "live", asOf: new Date(), lostAt: null });
    this.timer = setTimeout(() => this._check(generation), CHECK_EVERY_MS);
  }

  async _poll(generation) {
    const done = await this._catchUp(generation);
    if (generation !== this.generation) return;
    if (done) {
      this._setState({ mode: this.refused ? "refused" : "read-only", asOf: new Date() });
    }
    this.timer = setTimeout(() => this._poll(generation), POLL_EVERY_MS);
  }

  // Read every change after the watermark; true once read to the end.
  async _catchUp(generation) {
    const reload = this.watermark === null
      || Date.now() - this.syncedAt > RELOAD_AFTER_MS;
    const seen = reload ? new Set() : null;
    if (reload) this._setState({ mode: "syncing", loaded: 0, total: 0 });
    if (reload && !(await this._firstPage(generation, seen))) return false;
    let cursor = reload ? "0-0" : this.watermark;
    for (;;) {
      const page = await this._fetch(generation, `/api/v1/queue?since=${cursor}&limit=${PAGE}`);
      if (!page) return false;
      for (const row of page.tasks) { this.store.merge(row); if (seen) seen.add(row.id); }
      const last = page.tasks[page.tasks.length - 1];
      if (last && last.position) cursor = last.position;
      this._setState({ projection: page.freshness || null,
        loaded: this.state.loaded + (reload ? page.tasks.length : 0) });
      this.onChange();
      if (page.complete || !(last && last.position)) break;
    }
    if (seen) this._dropUnseen(seen);
    this.watermark = laterPosition(cursor, this.watermark || "0-0");
    this.syncedAt = Date.now();
    return true;
  }

  // The newest page first, so a long queue shows its top at once.
  async _firstPage(generation, seen) {
    const page = await this._fetch(generation, `/api/v1/queue?limit=${PAGE}`);
    if (!page) return false;
    for (const row of page.tasks) { this.store.merge(row); seen.add(row.id); }
    this._setState({ total: page.total });
    this.onChange();
    return true;
  }

  _dropUnseen(seen) {
    for (const id of Array.from(this.store.tasks.keys())) {
      if (!seen.has(id)) this.store.remove(id);
    }
  }

  // GET with retries; null when this generation ended before it succeeded.
  async _fetch(generation, path) {
    for (let attempt = 0; generation === this.generation; attempt += 1) {
      try {
        const body = await getJson(path);
        this.onProblem("sync", null);
        return generation === this.generation ? body : null;
      } catch (error) {
        if (generation !== this.generation) return null;
        const wait = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)];
        const what = error instanceof ApiError ? error.explanation : error.message;
        this.onProblem("sync", `Could not load the queue: ${what}. The page tries again `
          + `in ${wait / 1000} s and keeps showing what it had.`);
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    return null;
  }

  _setState(changes) {
    Object.assign(this.state, changes);
    this.onState(this.state);
  }
}
