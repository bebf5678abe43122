"""Cancelling, prioritising, serialising and recovering tasks with real worker
processes on real Redis and Neo4j."""

from __future__ import annotations

import contextlib
import http.server
import signal
import threading
import time

import pytest
import requests

from domain import services
from tests.catalogue_factory import write_catalogue
from tests.conftest import TOKEN
from tests.e2e.processes import SystemProcess, api_ready, wait_for
from tests.integration.http_server import serve_folder

pytestmark = pytest.mark.e2e

AUTH = {"Authorization": f"Bearer {TOKEN}"}
TERMINAL = ("TaskSucceeded", "TaskFailed", "TaskCancelled", "TaskDeadLettered")


@pytest.fixture
def start(process_env, tmp_path):
    started: list[SystemProcess] = []

    def start_process(role: str, **env: str) -> SystemProcess:
        process = SystemProcess(
            role, {**process_env, **env}, tmp_path, name=f"{role}-{len(started)}"
        )
        started.append(process)
        return process

    yield start_process
    for process in started:
        process.stop()
    for process in started:
        print(f"--- {process.name} ---\n{process.log()[-3000:]}")


@pytest.fixture
def api(start, settings):
    start("api")
    base = f"http://127.0.0.1:{settings.port}"
    wait_for(lambda: api_ready(base), 60, "the API")
    return base


def submit(api: str, **body) -> str:
    response = requests.post(
        f"{api}/api/v1/commands/norms-update", json=body, headers=AUTH, timeout=10
    )
    assert response.status_code == 202, response.text
    return response.json()["task_id"]


def history(container, task_id: str) -> list[str]:
    return [r.event.type_name for r in container.event_store.history(task_id)]


def task(container, task_id: str):
    return services.load(container.event_store, task_id)


def finished(container, task_id: str) -> bool:
    return task(container, task_id).status.is_terminal


def test_a_queued_task_is_cancelled_at_once_and_never_runs(api, start, container):
    task_id = submit(api)

    response = requests.post(
        f"{api}/api/v1/tasks/{task_id}/cancel",
        headers=AUTH,
        json={"reason": "wrong day"},
        timeout=10,
    )
    start("worker")
    other = submit(api)
    wait_for(lambda: finished(container, other), 60, "a later task to finish")

    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"
    assert history(container, task_id) == [
        "TaskSubmitted",
        "TaskCancelRequested",
        "TaskCancelled",
    ]
    again = requests.post(
        f"{api}/api/v1/tasks/{task_id}/cancel", headers=AUTH, timeout=10
    )
    assert again.status_code == 409
    assert "cancelled" in again.json()["description"]


def test_a_running_norms_update_stops_within_two_seconds(
    api, start, container, catalogues
):
    big = write_catalogue(catalogues / "big.csv", 60_000)
    start("worker")
    task_id = submit(api, sources=[str(big)])
    wait_for(lambda: task(container, task_id).done > 0, 60, "the update to progress")

    requests.post(f"{api}/api/v1/tasks/{task_id}/cancel", headers=AUTH, timeout=10)
    asked = container.event_store.history(task_id)[-1].event.occurred_at
    wait_for(lambda: finished(container, task_id), 10, "the update to stop")

    stopped = task(container, task_id)
    ended = container.event_store.history(task_id)[-1].event
    assert stopped.status.value == "cancelled"
    assert (ended.occurred_at - asked).total_seconds() < 2
    registered = history(container, task_id).count("NormRegistered")
    assert 0 < registered < 60_000
    assert stopped.report["added"] == registered
    assert len(container.event_store.known_norms()) == registered


def test_a_high_priority_task_overtakes_a_hundred_low_ones(
    api, start, container, catalogues
):
    tiny = write_catalogue(catalogues / "tiny.csv", 1)
    low = [submit(api, sources=[str(tiny)], priority="low") for _ in range(100)]
    high = submit(api, sources=[str(tiny)], priority="high")

    start("worker", BLDR_WORKER_THREADS="1", BLDR_WORKER_PREFETCH="1")
    wait_for(lambda: finished(container, high), 60, "the high task to finish")

    started = [
        fields["task_id"]
        for _, fields in container.redis.xrange(container.event_store.stream_key)
        if fields["type"] == "TaskStarted"
    ]
    assert started.index(high) <= 1
    assert set(started) - {high} <= set(low)


def test_two_workers_run_two_norms_updates_one_after_the_other(
    api, start, container, catalogues
):
    big = write_catalogue(catalogues / "mid.csv", 20_000)
    start("worker")
    start("worker")

    first = submit(api, sources=[str(big)])
    second = submit(api, sources=[str(big)])
    wait_for(
        lambda: finished(container, first) and finished(container, second),
        120,
        "both updates to finish",
    )

    entries = container.redis.xrange(container.event_store.stream_key)
    order = [
        (f["task_id"], f["type"])
        for _, f in entries
        if f["type"] in ("TaskStarted", "TaskSucceeded")
    ]
    ids = [task_id for task_id, _ in order]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]
    reports = sorted(task(container, t).report["added"] for t in (first, second))
    assert reports == [0, 20_000]


def test_a_task_whose_worker_is_killed_is_delivered_again_and_ends_once(
    api, start, container, catalogues
):
    big = write_catalogue(catalogues / "big.csv", 60_000)
    doomed = start("worker")
    task_id = submit(api, sources=[str(big)])
    wait_for(lambda: task(container, task_id).done > 0, 60, "the update to progress")

    doomed.stop(signal.SIGKILL)
    start("worker")
    wait_for(lambda: finished(container, task_id), 120, "the task to end")

    types = history(container, task_id)
    done = task(container, task_id)
    assert sum(t in TERMINAL for t in types) == 1
    assert done.status.value == "succeeded"
    assert done.attempt == 2
    assert len(container.event_store.known_norms()) == 60_000


class _Trickle(http.server.BaseHTTPRequestHandler):
    """Answers with a catalogue that arrives one byte every 0.3 s."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        with contextlib.suppress(OSError):
            for _ in range(1000):
                self.wfile.write(b"c")
                self.wfile.flush()
                time.sleep(0.3)

    def log_message(self, *args) -> None:
        pass


def test_an_attempt_past_its_time_limit_fails_and_is_dead_lettered(
    start, settings, container
):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    policies = '{"update_norms": {"time_limit_s": 2, "max_attempts": 1}}'
    start("api", BLDR_TASK_POLICIES=policies)
    start("worker", BLDR_TASK_POLICIES=policies)
    base = f"http://127.0.0.1:{settings.port}"
    wait_for(lambda: api_ready(base), 60, "the API")

    task_id = submit(base, sources=[f"http://127.0.0.1:{server.server_port}/c.csv"])
    try:
        wait_for(lambda: finished(container, task_id), 30, "the time limit to end it")
    finally:
        server.shutdown()
        server.server_close()

    done = task(container, task_id)
    assert done.status.value == "dead_lettered"
    assert done.error["type"] == "TimeLimitError"


def test_a_source_failing_twice_is_retried_by_a_real_worker_then_succeeds(
    api, start, container, catalogues
):
    with serve_folder(catalogues, failure="status500", failures=2) as base:
        start("worker")
        task_id = submit(api, sources=[f"{base}/catalogue-2024.csv"])
        wait_for(lambda: finished(container, task_id), 60, "the retried update")

    retries = [
        r.event
        for r in container.event_store.history(task_id)
        if r.event.type_name == "TaskRetryScheduled"
    ]
    done = task(container, task_id)
    assert done.status.value == "succeeded"
    assert [r.attempt for r in retries] == [1, 2]
    assert retries[0].delay_s < retries[1].delay_s
    assert done.attempt == 3 and done.report["added"] == 33
