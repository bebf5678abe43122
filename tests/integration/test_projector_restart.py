"""A projector that dies at any point leaves entries its successor finishes, with
the same graph as if nothing had happened."""

from __future__ import annotations

import threading

import pytest

from adapters.neo4j_projection_space import Neo4jProjectionSpace
from adapters.redis_projection_lock import ProjectionLock
from entrypoints.projector import Projector, decoded, graph_target, write_batch
from entrypoints.replay import Replay
from tests.e2e.processes import wait_for
from tests.integration import scripted_history as script


def read_as(container, projector: Projector, consumer: str, count: int):
    reply = container.redis.xreadgroup(
        projector.group,
        consumer,
        {container.event_store.stream_key: ">"},
        count=count,
    )
    return reply[0][1]


def follow_to_the_end(projector: Projector) -> int:
    projector.prepare()
    claimed = projector.reclaim(0)
    while projector.step(">", None):
        pass
    return claimed


def pending(container, projector: Projector) -> int:
    stream = container.event_store.stream_key
    return container.redis.xpending(stream, projector.group)["pending"]


@pytest.mark.parametrize("died", ["after reading", "after writing the graph"])
def test_a_successor_claims_what_a_dead_projector_left_unacknowledged(container, died):
    script.many_tasks(container.event_store, 10)
    dead = Projector(container, "projector@dead")
    dead.prepare()
    entries = read_as(container, dead, "projector@dead", 25)
    if died == "after writing the graph":
        write_batch(graph_target(container), decoded(entries), entries[-1][0])

    claimed = follow_to_the_end(Projector(container, "projector@next"))

    assert claimed == 25
    assert pending(container, dead) == 0
    assert Replay(container, "cli:test", progress=False).check().differences == []
    page = container.queue_graph.page(None, 0, 50)
    assert page.counts == {"succeeded": 10}


def test_the_checkpoint_is_the_newest_projected_position(container):
    script.many_tasks(container.event_store, 3)
    projector = Projector(container)
    projector.prepare()

    follow_to_the_end(projector)

    newest = container.redis.xrevrange(container.event_store.stream_key, count=1)
    space = Neo4jProjectionSpace(container.neo4j_driver)
    assert space.checkpoint() == newest[0][0]


def test_a_batch_applied_twice_leaves_the_graph_and_checkpoint_as_they_were(container):
    script.many_tasks(container.event_store, 4)
    projector = Projector(container)
    projector.prepare()
    follow_to_the_end(projector)
    space = Neo4jProjectionSpace(container.neo4j_driver)
    before, checkpoint = space.snapshot(), space.checkpoint()
    entries = container.redis.xrange(container.event_store.stream_key, count=30)

    write_batch(graph_target(container), decoded(entries), entries[-1][0])

    assert space.snapshot() == before
    assert space.checkpoint() == checkpoint


def replay_died_after(container, count: int) -> None:
    """What a from-scratch replay leaves when it is killed: the live graph wiped
    and rebuilt up to ``count`` entries, and its lock about to run out."""
    target = graph_target(container)
    target.space.wipe()
    entries = container.redis.xrange(container.event_store.stream_key, count=count)
    write_batch(target, decoded(entries), entries[-1][0])


def test_a_projector_started_after_a_replay_died_halfway_completes_the_graph(container):
    script.many_tasks(container.event_store, 6)
    follow_to_the_end(Projector(container, "projector@before"))
    replay_died_after(container, 10)
    script.finished_task(container.event_store, "late", ["ГОСТ 1"])
    projector = Projector(container, "projector@after")

    rewound = projector.rewind_to_checkpoint()
    follow_to_the_end(projector)

    assert rewound
    assert Replay(container, "cli:test", progress=False).check().differences == []
    assert container.queue_graph.page(None, 0, 50).counts == {"succeeded": 7}


def test_a_projector_paused_by_a_replay_that_died_reads_again_from_the_checkpoint(
    container,
):
    script.many_tasks(container.event_store, 6)
    projector = Projector(container, "projector@live")
    follow_to_the_end(projector)
    lock = ProjectionLock(container.redis)
    lock.take("replay:killed")
    script.finished_task(container.event_store, "late", ["ГОСТ 1"])
    paused = threading.Thread(target=projector.step, args=(">", None))
    paused.start()
    wait_for(lambda: pending(container, projector), 10, "the projector to read")

    replay_died_after(container, 10)
    lock.release("replay:killed")
    paused.join(30)
    follow_to_the_end(projector)

    assert Replay(container, "cli:test", progress=False).check().differences == []
    assert container.queue_graph.page(None, 0, 50).counts == {"succeeded": 7}
