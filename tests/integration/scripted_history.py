"""Histories written straight to the event store, with chosen times, for tests of
replay and audit that need many or precisely timed events."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from domain import events as ev

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def submit(store, task_id: str, at: datetime = T0, actor: str = "token:ops") -> None:
    store.submit(
        ev.TaskSubmitted(
            task_id=task_id,
            task_type="update_norms",
            occurred_at=at,
            actor=actor,
            correlation_id=task_id,
            arguments={"sources": ["a.csv"]},
        ),
        60,
    )


def start(store, task_id: str, at: datetime = T0) -> None:
    _append(
        store, task_id, [ev.TaskStarted(task_id=task_id, worker="w1", occurred_at=at)]
    )


def register(store, task_id: str, codes: list[str], at: datetime = T0) -> None:
    norms = [
        ev.NormRegistered(
            task_id=task_id,
            code=code,
            title=f"Title {code}",
            kind="SP",
            edition=2020,
            status="active",
            occurred_at=at,
        )
        for code in codes
    ]
    progress = ev.TaskProgressed(
        task_id=task_id,
        percent=50.0,
        done=len(codes),
        total=2 * len(codes),
        occurred_at=at,
    )
    _append(store, task_id, [*norms, progress])


def supersede(store, task_id: str, code: str, by: str, at: datetime = T0) -> None:
    _append(
        store,
        task_id,
        [
            ev.NormSuperseded(
                task_id=task_id, code=code, superseded_by=by, occurred_at=at
            )
        ],
    )


def succeed(store, task_id: str, at: datetime = T0) -> None:
    _append(
        store,
        task_id,
        [ev.TaskSucceeded(task_id=task_id, occurred_at=at, report={"added": 1})],
    )


def fail(store, task_id: str, at: datetime = T0) -> None:
    _append(
        store,
        task_id,
        [
            ev.TaskFailed(
                task_id=task_id,
                occurred_at=at,
                error_type="CatalogueFetchError",
                message="gone",
            )
        ],
    )


def finished_task(store, task_id: str, codes: list[str], at: datetime = T0) -> None:
    """A task that registers ``codes`` and succeeds, a second between steps."""
    submit(store, task_id, at)
    start(store, task_id, at + timedelta(seconds=1))
    register(store, task_id, codes, at + timedelta(seconds=2))
    succeed(store, task_id, at + timedelta(seconds=3))


def many_tasks(store, count: int, norms_each: int = 3) -> None:
    """``count`` finished tasks, each registering its own norms."""
    for n in range(count):
        codes = [f"СП {n}.{k}" for k in range(norms_each)]
        finished_task(store, f"task-{n:04d}", codes)


def _append(store, task_id: str, events: list[ev.Event]) -> None:
    stamped = [_as_worker(e, task_id) for e in events]
    store.append(task_id, stamped, _version(store, task_id))


def _as_worker(event: ev.Event, task_id: str) -> ev.Event:
    return dataclasses.replace(event, actor="worker:w1", correlation_id=task_id)


def _version(store, task_id: str) -> int:
    return len(store.history(task_id))
