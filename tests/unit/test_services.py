"""Submitting and running tasks through the application services, in memory."""

from __future__ import annotations

from adapters.memory_event_store import InMemoryEventStore
from domain import events as ev
from domain import norms as nm
from domain import services
from domain.commands import UpdateNorms
from domain.norms_sync import NormsSyncError, sync_norms
from domain.ports import TaskQueue
from domain.tasks import Task, TaskStatus


class ListQueue(TaskQueue):
    def __init__(self):
        self.tasks: list[str] = []

    def enqueue(self, task: Task) -> None:
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


def test_a_job_that_raises_fails_the_task_with_its_reason():
    store, queue = InMemoryEventStore(), ListQueue()
    task, _ = services.submit(UpdateNorms(actor="a"), store, queue, 60)

    def broken(run, arguments):
        raise FileNotFoundError("catalogue.csv is missing")

    done = services.run_task(store, task.task_id, "w1", {"update_norms": broken})

    assert done.status is TaskStatus.FAILED
    assert done.error["type"] == "FileNotFoundError"
    assert "catalogue.csv is missing" in done.error["message"]


def test_a_task_that_is_no_longer_queued_is_not_run_again():
    store, queue = InMemoryEventStore(), ListQueue()
    task, _ = services.submit(UpdateNorms(actor="a"), store, queue, 60)
    jobs = {"update_norms": lambda run, arguments: {"ok": True}}
    services.run_task(store, task.task_id, "w1", jobs)

    second = services.run_task(store, task.task_id, "w2", jobs)

    assert second is None
    terminal = [
        r
        for r in store.history(task.task_id)
        if r.event.type_name in ("TaskSucceeded", "TaskFailed")
    ]
    assert len(terminal) == 1


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
