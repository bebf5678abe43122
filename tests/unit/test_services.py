"""Submitting and running tasks through the application services, in memory."""

from __future__ import annotations

import pytest

from adapters.memory_coordination import InMemoryCoordination
from adapters.memory_event_store import InMemoryEventStore
from domain import events as ev
from domain import norms as nm
from domain import delivery, services
from domain.commands import UpdateNorms
from domain.norms_sync import NormsSyncError, sync_norms
from domain.errors import IllegalTransitionError
from domain.policies import TaskPolicy
from domain.ports import TaskQueue
from domain.tasks import Task, TaskStatus


class ListQueue(TaskQueue):
    def __init__(self):
        self.tasks: list[str] = []

    def enqueue(self, task: Task, delay_s: float = 0) -> None:
        self.tasks.append(task.task_id)


def norm(code: str, **changes) -> nm.Norm:
    fields = dict(
        code=code, title="Title " + code, kind="SP", edition=2020, status="active"
    )
    return nm.Norm(**{**fields, **changes})


def entries(*norms: nm.Norm):
    return [nm.CatalogueEntry(line, n) for line, n in enumerate(norms, start=2)]


def test_a_submission_is_recorded_then_queued():
    store, queue = InMemoryEventStore(), ListQueue()

    task, created = services.submit(UpdateNorms(actor="token:ops"), store, queue, 60)

    assert created
    assert task.status is TaskStatus.QUEUED
    assert queue.tasks == [task.task_id]
    assert [r.event.type_name for r in store.history(task.task_id)] == ["TaskSubmitted"]


def test_the_same_idempotency_key_returns_the_first_task():
    store, queue = InMemoryEventStore(), ListQueue()
    command = UpdateNorms(actor="token:ops", idempotency_key="k1")

    first, _ = services.submit(command, store, queue, 60)
    again, created = services.submit(command, store, queue, 60)

    assert again.task_id == first.task_id
    assert not created
    assert len(store.all_events()) == 1


def worker(store, queue=None, jobs=None, policy=None, transient=(OSError,)):
    return delivery.WorkerContext(
        name="w1",
        store=store,
        queue=queue or ListQueue(),
        coordination=InMemoryCoordination(),
        jobs=jobs or {"update_norms": lambda run, arguments: {"ok": True}},
        policies={"update_norms": policy or TaskPolicy(concurrency=1, backoff_s=1)},
        classify=lambda error: (error, isinstance(error, transient)),
    )


def submitted(store, queue=None) -> str:
    task, _ = services.submit(UpdateNorms(actor="a"), store, queue or ListQueue(), 60)
    return task.task_id


def types(store, task_id) -> list[str]:
    return [r.event.type_name for r in store.history(task_id)]


def test_a_job_that_raises_a_lasting_error_fails_the_task_at_once():
    store = InMemoryEventStore()
    task_id = submitted(store)

    def broken(run, arguments):
        raise ValueError("catalogue header is malformed")

    done = delivery.deliver(worker(store, jobs={"update_norms": broken}), task_id)

    assert done.status is TaskStatus.FAILED
    assert done.error["type"] == "ValueError"
    assert "header is malformed" in done.error["message"]
    failed = store.history(task_id)[-1].event
    assert "Traceback" in failed.trace


def test_a_transient_error_schedules_a_retry_with_growing_delays():
    store, queue = InMemoryEventStore(), ListQueue()
    task_id = submitted(store, queue)

    def flaky(run, arguments):
        raise ConnectionError("catalogue server went away")

    context = worker(store, queue, jobs={"update_norms": flaky})
    for _ in range(3):
        delivery.deliver(context, task_id)

    retries = [
        r.event
        for r in store.history(task_id)
        if isinstance(r.event, ev.TaskRetryScheduled)
    ]
    assert [r.attempt for r in retries] == [1, 2, 3]
    assert retries[0].delay_s < retries[2].delay_s
    assert queue.tasks == [task_id] * 4


def test_a_task_that_keeps_failing_is_dead_lettered_after_its_attempts():
    store = InMemoryEventStore()
    task_id = submitted(store)

    def flaky(run, arguments):
        raise ConnectionError("down")

    context = worker(
        store,
        jobs={"update_norms": flaky},
        policy=TaskPolicy(max_attempts=2, backoff_s=0.01),
    )
    delivery.deliver(context, task_id)
    done = delivery.deliver(context, task_id)

    assert done.status is TaskStatus.DEAD_LETTERED
    assert types(store, task_id).count("TaskRetryScheduled") == 1


def test_a_task_is_dead_lettered_once_delivered_more_often_than_allowed():
    store = InMemoryEventStore()
    task_id = submitted(store)
    context = worker(store, policy=TaskPolicy(max_attempts=1))
    context.coordination.deliveries[task_id] = 10

    done = delivery.deliver(context, task_id)

    assert done.status is TaskStatus.DEAD_LETTERED
    assert "delivered 11 times" in done.error["message"]


def test_a_task_that_is_no_longer_queued_is_not_run_again():
    store = InMemoryEventStore()
    task_id = submitted(store)
    delivery.deliver(worker(store), task_id)

    second = delivery.deliver(worker(store), task_id)

    assert second is None
    assert types(store, task_id).count("TaskSucceeded") == 1


def test_a_running_task_whose_lease_is_held_is_not_taken_over():
    store = InMemoryEventStore()
    task_id = submitted(store)
    context = worker(store)
    run = services.TaskRun(store, services.load(store, task_id), "other")
    run.start()
    context.coordination.leases[task_id] = "other"

    assert delivery.deliver(context, task_id) is None


def test_a_running_task_whose_worker_died_is_run_again_as_a_new_attempt():
    store = InMemoryEventStore()
    task_id = submitted(store)
    services.TaskRun(store, services.load(store, task_id), "dead").start()

    done = delivery.deliver(worker(store), task_id)

    assert done.status is TaskStatus.SUCCEEDED
    assert done.attempt == 2
    assert types(store, task_id).count("TaskSucceeded") == 1


def test_cancelling_a_queued_task_ends_it_before_it_runs():
    store = InMemoryEventStore()
    task_id = submitted(store)

    task = services.cancel(store, task_id, "token:ops", "wrong catalogue")
    delivered = delivery.deliver(worker(store), task_id)

    assert task.status is TaskStatus.CANCELLED
    assert delivered is None
    assert types(store, task_id) == [
        "TaskSubmitted",
        "TaskCancelRequested",
        "TaskCancelled",
    ]


def test_a_running_task_stops_at_its_next_safe_point_after_a_cancel():
    store = InMemoryEventStore()
    task_id = submitted(store)

    def long_job(run, arguments):
        services.cancel(store, task_id, "token:ops", "stop")
        for step in range(100):
            run.record([], progress=(step, step, 100))
        return {"done": 100}

    done = delivery.deliver(worker(store, jobs={"update_norms": long_job}), task_id)

    assert done.status is TaskStatus.CANCELLED
    assert done.cancel_reason == "stop"


def test_cancelling_a_finished_task_is_refused_with_its_state():
    store = InMemoryEventStore()
    task_id = submitted(store)
    delivery.deliver(worker(store), task_id)

    with pytest.raises(IllegalTransitionError, match="succeeded"):
        services.cancel(store, task_id, "token:ops")


def test_a_retry_by_hand_submits_a_linked_task_with_the_same_arguments():
    store, queue = InMemoryEventStore(), ListQueue()
    task, _ = services.submit(
        UpdateNorms(actor="a", sources=("x.csv",)), store, queue, 60
    )
    services.cancel(store, task.task_id, "token:ops")

    again = services.retry(store, queue, task.task_id, "token:ops", 60)
    twice = services.retry(store, queue, task.task_id, "token:ops", 60)

    assert again.retry_of == task.task_id
    assert again.arguments == {"sources": ["x.csv"]}
    assert twice.task_id == again.task_id


def test_a_queued_task_explains_what_it_waits_for():
    store = InMemoryEventStore()
    task = services.load(store, submitted(store))

    behind = services.explain(task, services.Waiting(queued_ahead=3))
    slot = services.explain(task, services.Waiting(slot_holder="t0"))

    assert behind == "queued behind 3 task(s)"
    assert slot == "waiting for the one-at-a-time slot held by task t0"


def running(store: InMemoryEventStore) -> services.TaskRun:
    task, _ = services.submit(UpdateNorms(actor="a"), store, ListQueue(), 60)
    run = services.TaskRun(store, task, "w1")
    assert run.start()
    return run


def test_a_sync_registers_new_norms_and_supersedes_replaced_ones():
    store = InMemoryEventStore()
    first = running(store)
    sync_norms(first, ["c1"], lambda s, p: entries(norm("СП 1"), norm("СП 2")))
    second = running(store)

    report = sync_norms(
        second,
        ["c2"],
        lambda s, p: entries(
            norm("СП 1", status="superseded", superseded_by="СП 2"),
            norm("СП 2"),
            norm("СП 3"),
        ),
    )

    assert (report["added"], report["changed"], report["unchanged"]) == (1, 1, 1)
    assert report["changed_by_kind"] == {"revised": 0, "superseded": 1}
    assert store.known_norms()["СП 1"].status == "superseded"
    types = [r.event.type_name for r in store.history(second.task_id)]
    assert types.count("NormSuperseded") == 1 and types.count("NormRegistered") == 1


def test_a_sync_that_finds_nothing_new_appends_no_norm_events():
    store = InMemoryEventStore()
    catalogue = lambda s, p: entries(norm("СП 1"))  # noqa: E731
    sync_norms(running(store), ["c"], catalogue)
    again = running(store)

    sync_norms(again, ["c"], catalogue)

    types = {r.event.type_name for r in store.history(again.task_id)}
    assert not types & {"NormRegistered", "NormRevised", "NormSuperseded"}


def test_a_sync_that_breaks_midway_keeps_what_it_recorded_in_its_report():
    store = InMemoryEventStore()
    run = running(store)

    def read(source, on_progress):
        if source == "bad":
            raise OSError("connection dropped")
        return entries(norm("СП 1"))

    try:
        sync_norms(run, ["good", "bad"], read)
    except NormsSyncError as exc:
        assert exc.report["added"] == 1
        assert isinstance(exc.cause, OSError)
    else:
        raise AssertionError("the sync should have failed")


def test_progress_is_recorded_at_most_once_per_interval():
    store = InMemoryEventStore()
    now = [0.0]
    task, _ = services.submit(UpdateNorms(actor="a"), store, ListQueue(), 60)
    run = services.TaskRun(
        store, task, "w1", progress_interval_s=1.0, clock=lambda: now[0]
    )
    run.start()

    for step in range(10):
        now[0] = step * 0.25
        run.record([], progress=(step * 10.0, step, 10))

    progressed = [
        r.event
        for r in store.history(task.task_id)
        if isinstance(r.event, ev.TaskProgressed)
    ]
    assert [p.percent for p in progressed] == [0.0, 40.0, 80.0]
