"""Replay rebuilds the Neo4j views from the stream, equal to what the live
projector built, and can run while the projector is live."""

from __future__ import annotations

import threading

from click.testing import CliRunner

from adapters.neo4j_projection_space import LIVE, Neo4jProjectionSpace
from adapters.redis_projection_lock import ProjectionLock
from entrypoints.cli import cli
from entrypoints.replay import Replay
from tests.integration import scripted_history as script
from tests.integration.test_norms_update import project, update


def live_space(container) -> Neo4jProjectionSpace:
    return Neo4jProjectionSpace(container.neo4j_driver, space=LIVE)


def test_a_rebuild_from_scratch_gives_the_graph_the_live_projector_built(
    container, catalogues
):
    update(container, str(catalogues / "catalogue-2024.csv"))
    update(container, str(catalogues / "catalogue-2026.csv"))
    before = live_space(container).snapshot()
    recorded = container.redis.xlen(container.event_store.stream_key)

    result = Replay(container, "cli:test", progress=False).rebuild()

    assert live_space(container).snapshot() == before
    assert result.events == recorded
    assert len(before.nodes) > 47


def test_replay_check_finds_no_difference_after_live_projection(
    container, catalogues, settings
):
    update(container, str(catalogues / "catalogue-2024.csv"))
    update(container, str(catalogues / "catalogue-2026.csv"))

    run = CliRunner().invoke(cli, ["replay", "--check"], obj=settings)

    assert run.exit_code == 0, run.output
    assert run.stdout == ""


def test_replay_check_prints_each_difference_and_fails(container, settings):
    script.finished_task(container.event_store, "t1", ["СП 1", "СП 2"])
    project(container)
    container.neo4j_driver.execute_query(
        "MATCH (t:Task {id: 't1'}) SET t.status = 'failed'"
    )
    container.neo4j_driver.execute_query(
        "MATCH (:Task)-[c:CHANGED]->(:Norm {code: 'СП 2'}) DELETE c"
    )

    run = CliRunner().invoke(cli, ["replay", "--check"], obj=settings)

    assert run.exit_code == 1
    lines = run.stdout.splitlines()
    assert "~ node Task 't1' .status: live 'failed', replay 'succeeded'" in lines
    assert any(
        line.startswith("+ relationship 't1'-[CHANGED registered@") and "'СП 2'" in line
        for line in lines
    )
    assert len(lines) == 2
    assert live_space(container).snapshot().nodes[("Task", "t1")]["status"] == "failed"


def test_a_replay_repairs_a_graph_that_drifted(container, settings):
    script.finished_task(container.event_store, "t1", ["СП 1"])
    project(container)
    container.neo4j_driver.execute_query("MATCH (n:Norm) DETACH DELETE n")

    rebuilt = CliRunner().invoke(cli, ["replay"], obj=settings)
    checked = CliRunner().invoke(cli, ["replay", "--check"], obj=settings)

    assert rebuilt.exit_code == 0, rebuilt.output
    assert checked.exit_code == 0, checked.output
    assert container.norms_graph.norm("СП 1")["runs"][0]["task_id"] == "t1"


def test_a_replay_from_a_position_applies_only_what_follows_it(container):
    store = container.event_store
    script.finished_task(store, "t1", ["СП 1"])
    project(container)
    middle = live_space(container).checkpoint()
    script.finished_task(store, "t2", ["СП 2"])

    result = Replay(container, "cli:test", progress=False).rebuild(middle)

    assert result.from_position == middle
    assert result.events == len(store.history("t2"))
    assert container.queue_graph.task("t2")["status"] == "succeeded"
    assert container.queue_graph.task("t1")["status"] == "succeeded"


def test_a_replay_is_recorded_as_a_system_event_that_is_not_a_task(container):
    script.finished_task(container.event_store, "t1", ["СП 1"])
    project(container)

    Replay(container, "cli:alice", progress=False).rebuild()
    project(container)

    recorded = container.event_store.history("system")
    assert [r.event.type_name for r in recorded] == ["ProjectionsReplayed"]
    assert recorded[0].event.actor == "cli:alice"
    assert recorded[0].event.mode == "rebuild"
    page = container.queue_graph.page(None, 0, 50)
    assert [t["id"] for t in page.tasks] == ["t1"]
    assert page.counts == {"succeeded": 1}


def test_the_projector_waits_while_a_replay_holds_the_lock(container):
    script.finished_task(container.event_store, "t1", ["СП 1"])
    lock = ProjectionLock(container.redis)
    lock.take("replay:test")
    projected = threading.Event()

    def follow() -> None:
        project(container)
        projected.set()

    thread = threading.Thread(target=follow)
    thread.start()
    held_back = not projected.wait(1.0)
    nothing_written = container.queue_graph.task("t1") is None
    lock.release("replay:test")
    thread.join(30)

    assert held_back and nothing_written
    assert container.queue_graph.task("t1")["status"] == "succeeded"


def test_events_appended_during_a_replay_reach_the_graph_after_it(container):
    store = container.event_store
    script.many_tasks(store, 20)
    project(container)
    replay = Replay(container, "cli:test", progress=False, batch=10)
    done = threading.Event()

    def rebuild() -> None:
        replay.rebuild()
        done.set()

    thread = threading.Thread(target=rebuild)
    thread.start()
    for n in range(5):
        script.finished_task(store, f"late-{n}", [f"ГОСТ {n}"])
        project(container)
    thread.join(60)
    project(container)

    assert done.is_set()
    assert all(
        container.queue_graph.task(f"late-{n}")["status"] == "succeeded"
        for n in range(5)
    )
    assert Replay(container, "cli:test", progress=False).check().differences == []
