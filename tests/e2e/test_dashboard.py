"""The live dashboard in a real Chromium against the real api, worker and projector
processes: what an operator sees while tasks run, after the API restarts, during a
burst of tasks, and without the operator token."""

from __future__ import annotations

import contextlib
import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
from falcon import testing
from playwright.sync_api import expect

from entrypoints.api import STATIC_DIR, create_app
from tests.conftest import TOKEN
from tests.e2e.browser import (
    CHROMIUM,
    VIEWER_ZONE,
    GatedCatalogues,
    RunningSystem,
    chromium,
    screenshot,
)
from tests.e2e.processes import wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="the browser tests drive Debian's chromium at /usr/bin/chromium, which "
        "is not installed ('make system-deps' installs it)",
    ),
]

SOURCES = 4
BURST = 500
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TERMINAL = ("succeeded", "failed", "cancelled", "dead_lettered")
HEADER = "code,title,kind,edition,status\n"
ONE_ROW = HEADER + "СП 999.1325800.2030,Проверочная норма,SP,2030,active\n"
REJECTS = HEADER + "СП 1.1,Без года,SP,около 2020,active\n,Без кода,SP,2020,active\n"


@pytest.fixture
def gated(catalogues):
    with GatedCatalogues(catalogues) as server:
        yield server


@contextlib.contextmanager
def running(env, tmp_path, port, workers=1):
    system = RunningSystem(env, tmp_path / "logs", port, workers)
    try:
        system.start()
        yield system
    finally:
        system.stop()
        print(system.logs())


@pytest.fixture
def system(container, process_env, gated, tmp_path):
    """The norms update's default sources are four gated copies of one catalogue."""
    defaults = ",".join(gated.urls("catalogue-2026.csv", SOURCES))
    env = dict(
        process_env, BLDR_DEFAULT_SOURCES=defaults, BLDR_FETCH_PRIVATE_HOSTS="yes"
    )
    with running(env, tmp_path, container.settings.port) as system:
        yield system


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path / "chromium-profile") as context:
        yield context


@pytest.fixture
def page_errors():
    """Uncaught errors of the page's scripts."""
    return []


def open_dashboard(browser, base, page_errors, token=None):
    page = browser.new_page()
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.goto(f"{base}/")
    if token:
        page.fill("#token", token)
        page.click("#token-form button[type=submit]")
        expect(page.locator("#connection")).to_have_attribute(
            "data-state", "live", timeout=30_000
        )
    return page


def submit(base, body=None):
    response = requests.post(
        f"{base}/api/v1/commands/norms-update", json=body, headers=AUTH, timeout=60
    )
    assert response.status_code == 202, response.text
    return response.json()["task_id"]


def api_task(base, task_id):
    return requests.get(f"{base}/api/v1/tasks/{task_id}", timeout=60).json()


def wait_finished(base, task_ids):
    wait_for(
        lambda: all(api_task(base, t)["status"] in TERMINAL for t in task_ids),
        60,
        "the earlier tasks to finish",
    )


def new_row_id(page):
    row = page.locator("#rows tr[data-status=queued], #rows tr[data-status=running]")
    expect(row.first).to_be_visible(timeout=30_000)
    return row.first.get_attribute("data-task-id")


def wait_mid_progress(page, task_id):
    """Wait until the task's row shows a percentage above 0 and below 100."""
    page.wait_for_function(
        """(id) => {
             const bar = document.querySelector(`tr[data-task-id="${id}"] .progress`);
             const p = bar ? Number(bar.dataset.percent) : -1;
             return p > 0 && p < 100;
           }""",
        arg=task_id,
        timeout=30_000,
    )


def shown_count(page, status):
    text = page.locator(f".count.{status} .value").text_content()
    return int(text.replace(",", "") or 0)


def finished_on_page(page):
    return sum(shown_count(page, status) for status in TERMINAL)


def test_update_norms_now_runs_a_task_that_the_page_follows_to_success(
    system, gated, catalogues, browser, page_errors
):
    (catalogues / "rejects.csv").write_text(REJECTS, encoding="utf-8")
    earlier = [
        submit(system.base, {"sources": [str(catalogues / name)]})
        for name in ("catalogue-2024.csv", "rejects.csv")
    ]
    wait_finished(system.base, earlier)
    page = open_dashboard(browser, system.base, page_errors, TOKEN)
    page.evaluate("window.sameDocument = true")

    page.click("#update-now")
    task_id = new_row_id(page)
    row = page.locator(f'tr[data-task-id="{task_id}"]')
    page.evaluate(RECORD_PERCENTS, task_id)
    gated.release()
    wait_mid_progress(page, task_id)
    screenshot(page, "queue-mid-run")
    gated.release(SOURCES - 1)
    expect(row).to_have_attribute("data-status", "succeeded", timeout=30_000)
    row.click()

    detail = page.locator("#detail")
    report = api_task(system.base, task_id)["report"]
    for key in ("added", "changed", "unchanged"):
        expect(detail.locator(f'.card[data-key="{key}"] .value')).to_have_text(
            str(report[key])
        )
    expect(detail.locator('.timeline li[data-type="TaskSucceeded"]')).to_be_visible()
    screenshot(page, "task-detail")
    expect(row.locator(".progress")).to_have_attribute("data-percent", "100")
    shown = page.evaluate("window.percents")
    assert shown == sorted(shown) and shown[0] == 0 and shown[-1] == 100
    assert any(0 < percent < 100 for percent in shown)
    assert page.evaluate("window.sameDocument") is True
    assert page_errors == []


# Every percentage the task's row shows, in order.
RECORD_PERCENTS = """
(id) => {
  window.percents = [];
  const note = () => {
    const bar = document.querySelector(`tr[data-task-id="${id}"] .progress`);
    const percent = bar ? Number(bar.dataset.percent) : null;
    if (percent !== null && window.percents.at(-1) !== percent) {
      window.percents.push(percent);
    }
  };
  note();
  new MutationObserver(note).observe(document.getElementById("rows"),
    { childList: true, subtree: true, attributes: true });
}
"""


def test_after_the_api_restarts_the_page_shows_what_it_missed(
    system, gated, container, browser, page_errors
):
    page = open_dashboard(browser, system.base, page_errors, TOKEN)
    page.click("#update-now")
    task_id = new_row_id(page)
    gated.release()
    wait_mid_progress(page, task_id)

    system.stop_role("api")
    expect(page.locator("#connection")).to_have_attribute(
        "data-state", "reconnecting", timeout=30_000
    )
    expect(page.locator(".notice.problem")).to_contain_text(
        "Live updates are interrupted"
    )
    gated.release(SOURCES - 1)
    wait_for(
        lambda: (container.queue_graph.task(task_id) or {}).get("status")
        == "succeeded",
        60,
        "the task to finish while the API is down",
    )
    row = page.locator(f'tr[data-task-id="{task_id}"]')
    shown_while_away = row.get_attribute("data-status")
    system.start_role("api")

    expect(page.locator("#connection")).to_have_attribute(
        "data-state", "live", timeout=60_000
    )
    expect(row).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(row.locator(".progress")).to_have_attribute("data-percent", "100")
    expect(page.locator(".count.succeeded .value")).to_have_text("1")
    expect(page.locator(".notice.problem")).to_have_count(0)
    assert shown_while_away == "running"
    assert page_errors == []


def test_cancel_shows_the_request_then_the_effect_and_a_refusal_in_words(
    system, gated, browser, page_errors
):
    page = open_dashboard(browser, system.base, page_errors, TOKEN)
    page.click("#update-now")
    first = new_row_id(page)
    row = page.locator(f'tr[data-task-id="{first}"]')
    expect(row).to_have_attribute("data-status", "running", timeout=30_000)
    row.click()
    cancel = page.locator("#detail .cancel-task")

    cancel.click()
    expect(page.locator("#detail .cancel-state.requested")).to_contain_text(
        "Cancellation requested"
    )
    expect(row.locator(".tag.pending-cancel")).to_be_visible()
    expect(cancel).to_be_disabled()
    gated.release()
    expect(row).to_have_attribute("data-status", "cancelled", timeout=30_000)
    expect(page.locator("#detail .cancel-state.effective")).to_contain_text("Cancelled")
    expect(cancel).to_be_hidden()
    screenshot(page, "task-cancelled")

    page.click("#update-now")
    second = new_row_id(page)
    late = page.locator(f'tr[data-task-id="{second}"]')
    expect(late).to_have_attribute("data-status", "running", timeout=30_000)
    system.stop_role("projector")
    gated.release(SOURCES)
    wait_for(
        lambda: api_task(system.base, second)["status"] == "succeeded",
        30,
        "the second task to succeed unseen by the page",
    )
    late.click()
    cancel.click()
    expect(page.locator("#detail .cancel-state.problem")).to_contain_text(
        "Not cancelled"
    )
    system.start_role("projector")
    expect(late).to_have_attribute("data-status", "succeeded", timeout=30_000)
    assert page_errors == []


def test_a_burst_of_500_tasks_all_finish_on_the_page_with_the_api_counts(
    container, process_env, catalogues, tmp_path, browser, page_errors
):
    (catalogues / "one-row.csv").write_text(ONE_ROW, encoding="utf-8")
    body = {"sources": [str(catalogues / "one-row.csv")]}
    env = dict(process_env, BLDR_WORKER_THREADS="8")
    with running(env, tmp_path, container.settings.port, workers=2) as system:
        page = open_dashboard(browser, system.base, page_errors, TOKEN)
        page.evaluate(RECORD_LONG_TASKS)

        with ThreadPoolExecutor(8) as pool:
            submitted = pool.map(lambda _: submit(system.base, body), range(BURST))
            rounds = click_around(page, until=lambda: finished_on_page(page) == BURST)
            task_ids = set(submitted)
        queue = requests.get(f"{system.base}/api/v1/queue", timeout=60).json()
        longest = page.evaluate("Math.max(0, ...window.longTasks)")

    counts = queue["counts"]
    assert len(task_ids) == BURST
    assert sum(counts.get(status, 0) for status in TERMINAL) == BURST
    for status in ("queued", "running", *TERMINAL):
        assert shown_count(page, status) == counts.get(status, 0), status
    expect(page.locator("#shown")).to_have_text(f"{BURST} tasks")
    assert rounds >= 3
    assert longest < 1000, f"the page's main thread was blocked for {longest} ms"
    assert page_errors == []


RECORD_LONG_TASKS = """
window.longTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.longTasks.push(entry.duration);
}).observe({ type: "longtask", buffered: true });
"""


def click_around(page, until, limit_s=120):
    """Filter, sort and open tasks as an operator would until ``until()``, each
    click landing within 5 s; the number of rounds made. One screenshot is taken
    mid-burst."""
    rounds = 0
    shot = False

    def one_round() -> bool:
        nonlocal rounds, shot
        page.click(".count.running", timeout=5_000)
        page.click(".count.all", timeout=5_000)
        page.click('th[data-sort="started"]', timeout=5_000)
        if not shot and 150 <= shown_count(page, "succeeded") < 400:
            screenshot(page, "queue-burst")
            shot = True
        page.click('th[data-sort="submitted"]', timeout=5_000)
        page.click('th[data-sort="submitted"]', timeout=5_000)
        page.locator("#rows tr[data-task-id]").first.click(timeout=5_000)
        expect(page.locator("#detail")).to_be_visible(timeout=5_000)
        page.click("#detail .close", timeout=5_000)
        rounds += 1
        return until()

    wait_for(
        one_round,
        limit_s,
        "every task of the burst to finish on the page",
        interval=0.2,
    )
    return rounds


def test_without_a_token_the_page_reads_but_cannot_act_and_gets_no_live_data(
    system, gated, browser, page_errors
):
    socket_requests = []
    page = browser.new_page()
    page.on(
        "request", lambda r: "/socket.io/" in r.url and socket_requests.append(r.url)
    )
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.goto(f"{system.base}/")
    expect(page.locator("#placeholder")).to_contain_text("The queue is empty.")
    task_id = submit(system.base)
    wait_for(
        lambda: api_task(system.base, task_id)["status"] == "running",
        30,
        "the task to start",
    )

    page.reload()
    expect(page.locator("#connection")).to_have_attribute(
        "data-state", "read-only", timeout=30_000
    )
    expect(page.locator("#update-now")).to_be_disabled()
    page.locator(f'tr[data-task-id="{task_id}"]').click()
    expect(page.locator("#detail .cancel-task")).to_be_disabled()
    requests_of_the_page = list(socket_requests)
    page.evaluate(SOCKET_PROBE)
    page.wait_for_function("window.probe.errors.length > 0", timeout=30_000)
    gated.release(SOURCES)
    wait_for(
        lambda: api_task(system.base, task_id)["status"] == "succeeded",
        30,
        "the task to succeed",
    )
    probe = page.evaluate("window.probe")
    page.fill("#token", "not-the-token")
    page.click("#token-form button[type=submit]")

    expect(page.locator("#connection")).to_have_attribute(
        "data-state", "refused", timeout=30_000
    )
    expect(page.locator(".notice.problem")).to_contain_text(
        "refused the live connection"
    )
    expect(page.locator("#update-now")).to_be_disabled()
    assert requests_of_the_page == []
    assert probe["errors"] == ["a valid token is required"]
    assert probe["events"] == []
    assert page.locator("#zone").inner_text().startswith(VIEWER_ZONE)
    assert page_errors == []


# A Socket.IO client in the page, made with the page's own library, without a token.
SOCKET_PROBE = """
window.probe = { events: [], errors: [] };
const socket = io({ reconnection: false });
socket.on("connect_error", (error) => window.probe.errors.push(error.message));
socket.onAny((name, payload) => window.probe.events.push([name, payload]));
"""


def test_the_page_and_its_libraries_are_served_by_the_api_itself(container):
    client = testing.TestClient(create_app(container))

    page = client.simulate_get("/").text
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    answers = [client.simulate_get(path) for path in scripts]
    package = client.simulate_get("/static/package.json").json

    assert scripts == [
        "/static/vendor/socket.io.min.js",
        "/static/vendor/chart.umd.min.js",
        "/static/dashboard.js",
    ]
    assert all(answer.status_code == 200 for answer in answers)
    assert package["dependencies"] == {"chart.js": "4.6.1", "socket.io-client": "4.8.4"}


# The page's own modules, loaded in Chromium from an address the test answers:
# the rules that keep the page correct, without the rest of the system.
LOGIC_ORIGIN = "http://dashboard.test"


def logic_page(browser, answers):
    """A blank page whose /api/ requests get the bodies listed for them in
    ``answers``, one per request; the requests made are kept in the returned list."""
    asked = []

    def answer(route):
        url = urlsplit(route.request.url)
        if url.path.startswith("/static/"):
            route.fulfill(
                path=STATIC_DIR / url.path.removeprefix("/static/"),
                content_type="text/javascript",
            )
        elif url.path.startswith("/api/"):
            asked.append(f"{url.path}?{url.query}")
            route.fulfill(json=answers[f"{url.path}?{url.query}"].pop(0))
        else:
            route.fulfill(
                body="<!doctype html><title>logic</title>", content_type="text/html"
            )

    page = browser.new_page()
    page.route(f"{LOGIC_ORIGIN}/**", answer)
    page.goto(f"{LOGIC_ORIGIN}/")
    return page, asked


def test_a_late_row_never_undoes_a_newer_state_but_fills_in_what_is_missing(browser):
    page, _ = logic_page(browser, {})

    task = page.evaluate("""async () => {
      const { TaskStore } = await import("/static/store.js");
      const store = new TaskStore();
      store.merge({ task_id: "t", version: 3, position: "30-0", status: "running",
                    percent: 40 });
      store.merge({ id: "t", version: 2, position: "20-0", status: "queued",
                    type: "update_norms", submitted_at: "2026-12-03T10:00:00+00:00" });
      store.merge({ task_id: "t", version: 5, position: "50-0", status: "succeeded",
                    percent: 100, report: '{"added": 3}' });
      store.merge({ task_id: "t", version: 4, position: "40-0", percent: 90 });
      return store.get("t");
    }""")

    assert task["status"] == "succeeded"
    assert task["percent"] == 100
    assert task["version"] == 5
    assert task["type"] == "update_norms"
    assert task["submitted_at"] == "2026-12-03T10:00:00+00:00"
    assert task["report"] == {"added": 3}


def test_stream_positions_compare_as_numbers(browser):
    page, _ = logic_page(browser, {})

    order = page.evaluate("""async () => {
      const { comparePositions } = await import("/static/store.js");
      return ["10-0", "9-0", "9-10", "9-2", "0-0"].sort(comparePositions);
    }""")

    assert order == ["0-0", "9-0", "9-2", "9-10", "10-0"]


def task_row(task_id, version, position, status="running"):
    return {
        "id": task_id,
        "version": version,
        "position": position,
        "status": status,
        "type": "update_norms",
    }


def test_a_change_whose_live_update_was_lost_arrives_with_the_next_catch_up(browser):
    queue = "/api/v1/queue"
    page, asked = logic_page(
        browser,
        {
            f"{queue}?limit=500": [{"tasks": [], "total": 2, "counts": {}}],
            f"{queue}?since=0-0&limit=500": [
                {
                    "complete": False,
                    "tasks": [task_row("a", 2, "100-0"), task_row("b", 2, "105-3")],
                }
            ],
            f"{queue}?since=105-3&limit=500": [
                {"complete": True, "tasks": []},
                {
                    "complete": True,
                    "tasks": [
                        task_row("a", 3, "200-0"),
                        task_row("b", 4, "210-0", "succeeded"),
                    ],
                },
            ],
        },
    )

    seen = page.evaluate("""async () => {
      const { TaskStore } = await import("/static/store.js");
      const { QueueSync } = await import("/static/sync.js");
      const store = new TaskStore();
      const quiet = { onChange() {}, onState() {}, onProblem() {} };
      const sync = new QueueSync(store, quiet);
      await sync._catchUp(sync.generation);
      const loaded = sync.watermark;
      sync._live({ tasks: [{ task_id: "a", version: 3, position: "200-0",
                             percent: 50 }] });
      const afterLive = sync.watermark;
      await sync._catchUp(sync.generation);
      return { loaded, afterLive, caughtUp: sync.watermark,
               a: store.get("a").percent, b: store.get("b").status };
    }""")

    assert asked == [
        f"{queue}?limit=500",
        f"{queue}?since=0-0&limit=500",
        f"{queue}?since=105-3&limit=500",
        f"{queue}?since=105-3&limit=500",
    ]
    assert seen == {
        "loaded": "105-3",
        "afterLive": "105-3",
        "caughtUp": "210-0",
        "a": 50,
        "b": "succeeded",
    }
