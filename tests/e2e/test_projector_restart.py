"""A real ``bldr projector`` killed with SIGKILL in the middle of the stream: its
successor claims what it left and ends with the graph a replay builds."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from adapters.neo4j_projection_space import Neo4jProjectionSpace
from tests.e2e.processes import REPO, SystemProcess, wait_for
from tests.integration import scripted_history as script

pytestmark = pytest.mark.e2e


def checkpoint(container) -> str:
    return Neo4jProjectionSpace(container.neo4j_driver).checkpoint()


def newest(container) -> str:
    return container.redis.xrevrange(container.event_store.stream_key, count=1)[0][0]


def caught_up(container) -> bool:
    stream = container.event_store.stream_key
    groups = container.redis.xinfo_groups(stream)
    idle = all(
        container.redis.xpending(stream, g["name"])["pending"] == 0 for g in groups
    )
    return idle and checkpoint(container) == newest(container)


def test_a_projector_killed_mid_stream_is_finished_by_its_successor(
    container, process_env, tmp_path
):
    script.many_tasks(container.event_store, 200)
    total = container.redis.xlen(container.event_store.stream_key)
    first = SystemProcess("projector", process_env, tmp_path, name="killed")
    wait_for(lambda: checkpoint(container) != "0-0", 60, "a first projected batch")
    first.stop(signal.SIGKILL)
    killed_at = checkpoint(container)
    script.finished_task(container.event_store, "late", ["ГОСТ 1"])

    second = SystemProcess("projector", process_env, tmp_path, name="successor")
    try:
        wait_for(lambda: caught_up(container), 60, "the successor to catch up")
    finally:
        second.stop()
    check = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "replay", "--check"],
        cwd=REPO,
        env=process_env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert total == 1400
    assert killed_at != newest(container)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout == ""
    assert container.queue_graph.page(None, 0, 1).counts == {"succeeded": 201}
