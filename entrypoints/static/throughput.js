// Tasks finished per minute over the last hour, from /api/v1/queue/throughput,
// drawn with the vendored Chart.js. Reloaded every half minute and soon after a
// task finishes.
import { ApiError, getJson } from "./api.js";
import * as fmt from "./format.js";

const EVERY_MS = 30 * 1000;
const SOON_MS = 3 * 1000;
const SERIES = [
  ["succeeded", "#2f9e5b"], ["failed", "#d9483b"],
  ["dead_lettered", "#8f2d56"], ["cancelled", "#98a2b3"],
];

export class ThroughputChart {
  constructor(canvas, caption) {
    this.canvas = canvas;
    this.caption = caption;
    this.chart = null;
    this.timer = null;
  }

  start() { this._load(); }

  // A task finished: reload a little later, once for a burst of them.
  soon() {
    if (this._soon) return;
    this._soon = setTimeout(() => { this._soon = null; this._load(); }, SOON_MS);
  }

  async _load() {
    clearTimeout(this.timer);
    try {
      const body = await getJson("/api/v1/queue/throughput?minutes=60");
      this._draw(body.per_minute);
    } catch (error) {
      const what = error instanceof ApiError ? error.explanation : error.message;
      this.caption.textContent = `Chart not updated: ${what}. Trying again in 30 s.`;
      this.caption.classList.add("problem");
    }
    this.timer = setTimeout(() => this._load(), EVERY_MS);
  }

  _draw(minutes) {
    const labels = minutes.map((m) => fmt.minuteLabel(new Date(m.minute)));
    const total = minutes.reduce((sum, m) => sum + m.finished, 0);
    const last = minutes.slice(-5).reduce((sum, m) => sum + m.finished, 0);
    this.caption.classList.remove("problem");
    this.caption.textContent = `${fmt.count(total)} finished in the last hour · `
      + `${fmt.count(last)} in the last 5 min`;
    const datasets = SERIES
      .filter(([status], index) => index === 0 || minutes.some((m) => m.by_status[status]))
      .map(([status, colour]) => ({
        label: fmt.STATUS_LABELS[status], backgroundColor: colour, borderRadius: 2,
        data: minutes.map((m) => m.by_status[status] || 0), stack: "finished",
      }));
    if (this.chart) {
      this.chart.data.labels = labels;
      this.chart.data.datasets = datasets;
      this.chart.update("none");
      return;
    }
    this.chart = new Chart(this.canvas, { type: "bar", data: { labels, datasets },
      options: chartOptions() });
  }
}

function chartOptions() {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: {
      legend: { display: false },
      tooltip: { mode: "index", intersect: false },
    },
    scales: {
      x: { stacked: true, grid: { display: false },
        ticks: { maxTicksLimit: 7, maxRotation: 0, color: "#667085", font: { size: 11 } } },
      y: { stacked: true, beginAtZero: true, border: { display: false },
        grid: { color: "#eef0f4" },
        ticks: { precision: 0, maxTicksLimit: 4, color: "#667085", font: { size: 11 } } },
    },
  };
}
