"""A norms update submitted over HTTP, run by a real worker, projected into Neo4j
and pushed to a Socket.IO client, with every part a separate process."""

from __future__ import annotations

import threading

import pytest
import requests
import socketio

from tests.conftest import TOKEN
from tests.e2e.processes import SystemProcess, api_ready, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def system(container, process_env, tmp_path):
    processes = [
        SystemProcess(role, process_env, tmp_path)
        for role in ("api", "worker", "projector")
    ]
    base = f"http://127.0.0.1:{container.settings.port}"
    try:
        wait_for(lambda: api_ready(base), 60, "the API to answer /healthz")
        yield base
    finally:
        for p in processes:
            p.stop()
        for p in processes:
            print(f"--- {p.role} log ---\n{p.log()[-4000:]}")


class Recorder:
    """A python-socketio client that keeps every task update it receives."""

    def __init__(self, base: str, token: str | None):
        self.updates: list[dict] = []
        self.finished = threading.Event()
        self.client = socketio.Client(reconnection=False)
        self.client.on("tasks", self._on_tasks)
        self.client.connect(
            base, auth={"token": token} if token else None, wait_timeout=10
        )

    def _on_tasks(self, batch) -> None:
        self.updates.extend(batch["tasks"])
        if any(u.get("status") == "succeeded" for u in batch["tasks"]):
            self.finished.set()

    def statuses(self, task_id: str) -> list[str]:
        return [
            u["status"]
            for u in self.updates
            if u["task_id"] == task_id and "status" in u
        ]


def test_a_norms_update_runs_through_every_part(system, container):
    recorder = Recorder(system, TOKEN)

    response = requests.post(
        f"{system}/api/v1/commands/norms-update",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    task_id = response.json()["task_id"]
    assert response.status_code == 202
    assert recorder.finished.wait(60), "no 'succeeded' update reached the client"
    recorder.client.disconnect()

    entries = container.redis.xrange(container.event_store.stream_key)
    types = [f["type"] for _, f in entries if f["task_id"] == task_id]
    assert types[0] == "TaskSubmitted" and types[1] == "TaskStarted"
    assert sum(t in ("TaskSucceeded", "TaskFailed") for t in types) == 1
    assert types[-1] == "TaskSucceeded"
    assert types.count("NormRegistered") == 47
    node = container.queue_graph.task(task_id)
    assert node["status"] == "succeeded"
    assert node["report"]["added"] == 47
    assert recorder.statuses(task_id)[-1] == "succeeded"
    task = requests.get(f"{system}/api/v1/tasks/{task_id}", timeout=10).json()
    assert task["report"]["added"] == 47
    queue = requests.get(f"{system}/api/v1/queue", timeout=10).json()
    assert queue["counts"] == {"succeeded": 1}


def test_a_socket_client_without_a_token_is_refused(system):
    with pytest.raises(socketio.exceptions.ConnectionError):
        Recorder(system, None)
    with pytest.raises(socketio.exceptions.ConnectionError):
        Recorder(system, "wrong")
