"""The contract every event store keeps, run against each implementation."""

from __future__ import annotations

import threading

import pytest

from adapters import event_codec
from adapters.memory_event_store import InMemoryEventStore
from adapters.redis_event_store import RedisEventStore
from domain import events as ev
from domain.errors import VersionConflictError
from domain.norms import Norm


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return InMemoryEventStore()
    container = request.getfixturevalue("container")
    return container.event_store


def submission(task_id="t1", key=""):
    return ev.TaskSubmitted(
        task_id=task_id,
        task_type="update_norms",
        idempotency_key=key,
        actor="token:ops",
    )


def test_a_submission_opens_the_history_at_version_one(store):
    store.submit(submission(), 60)

    history = store.history("t1")

    assert [(r.event.type_name, r.event.version) for r in history] == [
        ("TaskSubmitted", 1)
    ]
    assert history[0].event.actor == "token:ops"


def test_an_append_numbers_events_after_the_expected_version(store):
    store.submit(submission(), 60)

    store.append(
        "t1",
        [ev.TaskStarted(task_id="t1"), ev.TaskProgressed(task_id="t1", percent=5.5)],
        1,
    )

    assert [r.event.version for r in store.history("t1")] == [1, 2, 3]
    assert store.history("t1")[2].event.percent == 5.5


def test_an_append_at_a_stale_version_is_refused_and_changes_nothing(store):
    store.submit(submission(), 60)
    store.append("t1", [ev.TaskStarted(task_id="t1")], 1)

    with pytest.raises(VersionConflictError) as raised:
        store.append("t1", [ev.TaskStarted(task_id="t1", attempt=2)], 1)

    assert raised.value.actual == 2
    assert len(store.history("t1")) == 2


def test_concurrent_starts_with_the_same_expectation_let_exactly_one_through(store):
    store.submit(submission(), 60)
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def start(n: int) -> None:
        barrier.wait()
        try:
            store.append("t1", [ev.TaskStarted(task_id="t1", worker=f"w{n}")], 1)
            outcomes.append("ok")
        except VersionConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=start, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["conflict"] * 7 + ["ok"]
    types = [r.event.type_name for r in store.history("t1")]
    assert types.count("TaskStarted") == 1


def test_a_repeated_idempotency_key_returns_the_first_task(store):
    first = store.submit(submission("t1", key="daily-1"), 60)

    second = store.submit(submission("t2", key="daily-1"), 60)

    assert first == ("t1", True)
    assert second == ("t1", False)
    assert store.history("t2") == []


def test_norms_stored_with_events_are_the_known_registry(store):
    store.submit(submission(), 60)
    norm = Norm(code="СП 1", title="Т", kind="SP", edition=2020, status="active")

    store.append("t1", [ev.TaskStarted(task_id="t1")], 1, {"СП 1": norm})

    assert store.known_norms() == {"СП 1": norm}


def test_an_unknown_task_has_no_history(store):
    assert store.history("nobody") == []


def test_every_redis_entry_chains_to_its_predecessor(container):
    store = container.event_store
    store.submit(submission("t1"), 60)
    store.submit(submission("t2"), 60)
    store.append("t1", [ev.TaskStarted(task_id="t1")], 1)

    entries = container.redis.xrange(store.stream_key)

    previous = ""
    for _, fields in entries:
        values = [fields[name] for name in event_codec.FIELD_ORDER]
        assert fields["prev"] == previous
        assert fields["hash"] == event_codec.chain_hash(previous, values)
        previous = fields["hash"]
    assert len(entries) == 3


def test_events_read_back_from_redis_equal_what_was_written(container):
    store = container.event_store
    event = ev.NormRevised(
        task_id="t1",
        code="СП 1",
        title="Т",
        kind="SP",
        edition=2021,
        status="active",
        changed_fields=("edition",),
    )
    store.submit(submission(), 60)
    store.append("t1", [ev.TaskStarted(task_id="t1"), event], 1)

    read = store.history("t1")[2].event

    assert read == event.at_version(3)
