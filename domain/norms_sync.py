"""The norms update job: bring the registry in line with catalogues, as events.

Every change found becomes a norm event of the running task, appended in batches
together with the registry entries it establishes and a progress event when one
is due. A run that finds nothing new appends no norm events.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from domain import events as ev
from domain import norms as nm
from domain.task_run import TaskRun

BATCH = 500

ReadCatalogue = Callable[
    [str, Callable[[int, int], None]], Iterable[nm.CatalogueEntry | nm.RejectedRow]
]


class NormsSyncError(Exception):
    """The job stopped early; ``report`` holds what it had recorded by then."""

    def __init__(self, cause: BaseException, report: dict[str, Any]):
        super().__init__(str(cause))
        self.cause = cause
        self.report = report


def sync_norms(
    run: TaskRun, sources: Sequence[str], read: ReadCatalogue
) -> dict[str, Any]:
    """Apply ``sources`` in order to the registry; the report of what changed.

    The caller holds the registry for this run alone (the task type runs one at
    a time), so the registry read at the start stays true until the end."""
    started = time.monotonic()
    totals = _Totals()
    known = dict(run.store.known_norms())
    try:
        for index, source in enumerate(sources):
            _sync_one(run, known, read, source, (index, len(sources)), totals)
    except Exception as exc:
        raise NormsSyncError(exc, totals.report(started)) from exc
    return totals.report(started)


def _sync_one(run, known, read, source, place, totals: _Totals) -> None:
    index, count = place
    position = {"done": 0, "total": 0}

    def on_progress(done: int, total: int) -> None:
        position.update(done=done, total=total)

    recorded = totals.start(source)
    for chunk in _chunks(nm.compare(known, read(source, on_progress)), BATCH):
        facts, changed = _facts(run.task_id, chunk)
        fraction = position["done"] / position["total"] if position["total"] else 0
        percent = 100.0 * (index + fraction) / count
        run.record(facts, changed, (percent, totals.rows + len(chunk), 0))
        known.update(changed)
        for decision in chunk:
            recorded.record(decision)


def _facts(task_id: str, decisions: list[nm.Decision]):
    facts: list[ev.Event] = []
    changed: dict[str, nm.Norm] = {}
    for decision in decisions:
        event = _event(task_id, decision)
        if event is not None:
            facts.append(event)
            changed[decision.norm.code] = decision.norm
    return facts, changed


def _event(task_id: str, decision: nm.Decision) -> ev.Event | None:
    match decision:
        case nm.Registration(norm=norm):
            return ev.NormRegistered(task_id=task_id, **_norm_facts(norm))
        case nm.Supersession(norm=norm):
            return ev.NormSuperseded(
                task_id=task_id, code=norm.code, superseded_by=norm.superseded_by
            )
        case nm.Revision(norm=norm, changed_fields=changed):
            return ev.NormRevised(
                task_id=task_id, changed_fields=changed, **_norm_facts(norm)
            )
    return None


def _norm_facts(norm: nm.Norm) -> dict[str, Any]:
    return {name: getattr(norm, name) for name in nm.NORM_FIELDS}


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    yield chunk


class _Totals:
    """The reports of every source read so far, added up."""

    reports: list[nm.SyncReport]

    def __init__(self) -> None:
        self.reports: list[nm.SyncReport] = []
        self.sources: list[str] = []

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.reports)

    def start(self, source: str) -> nm.SyncReport:
        """The report of ``source``, counting only decisions already recorded, so
        that a run stopped midway reports exactly what it left behind."""
        self.sources.append(source)
        self.reports.append(nm.SyncReport())
        return self.reports[-1]

    def report(self, started: float) -> dict[str, Any]:
        def total(name: str) -> int:
            return sum(getattr(r, name) for r in self.reports)

        return {
            "added": total("added"),
            "changed": total("changed"),
            "changed_by_kind": {
                "revised": total("revised"),
                "superseded": total("superseded"),
            },
            "unchanged": total("unchanged"),
            "duplicates": total("duplicates"),
            "rejected": [
                {"line": line, "reason": reason, "source": source}
                for source, r in zip(self.sources, self.reports)
                for line, reason in r.rejected
            ],
            "sources": list(self.sources),
            "rows": self.rows,
            "elapsed_s": round(time.monotonic() - started, 3),
        }
