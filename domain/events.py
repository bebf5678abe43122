"""Domain events: immutable facts, named in the past tense.

Every event belongs to one stream of facts about one task (``task_id``) and carries
its position in that task's history (``version``, starting at 1). Norm events are
facts a task run established about the norms registry, so they belong to the task
that found them.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar

SCHEMA_VERSION = 1


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def new_event_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, kw_only=True)
class Event:
    """A fact about one task, at one version of that task's history."""

    type_name: ClassVar[str] = "Event"

    task_id: str
    version: int = 0
    event_id: str = field(default_factory=new_event_id)
    occurred_at: datetime = field(default_factory=utc_now)
    actor: str = "system"
    correlation_id: str = ""

    def facts(self) -> dict[str, Any]:
        """The fields particular to this kind of event."""
        common = {f.name for f in dataclasses.fields(Event)}
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in common
        }

    def at_version(self, version: int) -> Event:
        return dataclasses.replace(self, version=version)


@dataclass(frozen=True, kw_only=True)
class TaskSubmitted(Event):
    type_name: ClassVar[str] = "TaskSubmitted"

    task_type: str
    arguments: dict[str, Any] = field(default_factory=dict)
    priority: str = "normal"
    idempotency_key: str = ""
    retry_of: str = ""


@dataclass(frozen=True, kw_only=True)
class TaskStarted(Event):
    type_name: ClassVar[str] = "TaskStarted"

    attempt: int = 1
    worker: str = ""


@dataclass(frozen=True, kw_only=True)
class TaskProgressed(Event):
    type_name: ClassVar[str] = "TaskProgressed"

    percent: float
    done: int = 0
    total: int = 0


@dataclass(frozen=True, kw_only=True)
class TaskSucceeded(Event):
    type_name: ClassVar[str] = "TaskSucceeded"

    report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class TaskFailed(Event):
    type_name: ClassVar[str] = "TaskFailed"

    error_type: str
    message: str
    attempt: int = 1
    report: dict[str, Any] = field(default_factory=dict)
    trace: str = ""


@dataclass(frozen=True, kw_only=True)
class TaskCancelRequested(Event):
    """Someone asked to stop the task; it holds even while no worker is online."""

    type_name: ClassVar[str] = "TaskCancelRequested"

    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class TaskCancelled(Event):
    """The task stopped for good at a safe point (or before it ever ran)."""

    type_name: ClassVar[str] = "TaskCancelled"

    reason: str = ""
    report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class TaskRetryScheduled(Event):
    """An attempt failed in a way worth retrying; the next one waits ``delay_s``."""

    type_name: ClassVar[str] = "TaskRetryScheduled"

    attempt: int
    delay_s: float
    retry_at: str
    error_type: str
    message: str
    trace: str = ""


@dataclass(frozen=True, kw_only=True)
class TaskDeadLettered(Event):
    """The task used up its attempts; it waits for a person."""

    type_name: ClassVar[str] = "TaskDeadLettered"

    attempts: int
    error_type: str
    message: str
    trace: str = ""


@dataclass(frozen=True, kw_only=True)
class NormRegistered(Event):
    """A norm the registry did not know appeared in a catalogue."""

    type_name: ClassVar[str] = "NormRegistered"

    code: str
    title: str
    kind: str
    edition: int
    status: str
    superseded_by: str = ""
    replaces: str = ""
    checksum: str = ""
    document_size: int = 0


@dataclass(frozen=True, kw_only=True)
class NormRevised(Event):
    """A known norm changed title, kind, edition, status or document."""

    type_name: ClassVar[str] = "NormRevised"

    code: str
    title: str
    kind: str
    edition: int
    status: str
    superseded_by: str = ""
    replaces: str = ""
    checksum: str = ""
    document_size: int = 0
    changed_fields: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class NormSuperseded(Event):
    """A known norm was replaced by another edition."""

    type_name: ClassVar[str] = "NormSuperseded"

    code: str
    superseded_by: str


TASK_EVENTS: tuple[type[Event], ...] = (
    TaskSubmitted,
    TaskStarted,
    TaskProgressed,
    TaskSucceeded,
    TaskFailed,
    TaskCancelRequested,
    TaskCancelled,
    TaskRetryScheduled,
    TaskDeadLettered,
)
NORM_EVENTS: tuple[type[Event], ...] = (NormRegistered, NormRevised, NormSuperseded)
EVENT_TYPES: dict[str, type[Event]] = {
    cls.type_name: cls for cls in TASK_EVENTS + NORM_EVENTS
}

SYSTEM_TASK_ID = "system"
"""The history that operations on the whole system (not on one task) belong to."""


@dataclass(frozen=True, kw_only=True)
class ProjectionsReplayed(Event):
    """The views were rebuilt from the history, or rebuilt aside and compared."""

    type_name: ClassVar[str] = "ProjectionsReplayed"

    mode: str
    from_position: str
    to_position: str
    events: int
    differences: int = 0


@dataclass(frozen=True, kw_only=True)
class StreamArchived(Event):
    """The history up to ``last_position`` was written to an archive and removed
    from the live stream; ``last_hash`` lets the rest of the chain be checked."""

    type_name: ClassVar[str] = "StreamArchived"

    archive: str
    first_position: str
    last_position: str
    last_hash: str
    events: int
    sha256: str


SYSTEM_EVENTS: tuple[type[Event], ...] = (ProjectionsReplayed, StreamArchived)
EVENT_TYPES.update({cls.type_name: cls for cls in SYSTEM_EVENTS})


def is_system(event: Event) -> bool:
    """Whether ``event`` records an operation on the system rather than a task."""
    return isinstance(event, SYSTEM_EVENTS)
