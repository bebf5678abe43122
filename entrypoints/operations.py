"""Operations on the whole system (replay, archive) recorded as events.

They belong to the history of the pseudo task ``domain.events.SYSTEM_TASK_ID`` and
are appended at its next version, like any task's events, so the stream says who
ran them and when.
"""

from __future__ import annotations

import dataclasses
import getpass
import socket

from adapters.redis_audit import RedisAuditLog
from domain import events as ev
from domain.errors import VersionConflictError
from domain.ports import RecordedEvent
from entrypoints.bootstrap import Container

ATTEMPTS = 5


def cli_actor() -> str:
    """The identity of someone running ``bldr`` at a shell: ``cli:<user>@<host>``."""
    return f"cli:{getpass.getuser()}@{socket.gethostname()}"


def record(container: Container, event: ev.Event) -> RecordedEvent:
    """Append ``event`` to the system history; its correlation id is its own id
    unless it was started by another command."""
    log = RedisAuditLog(container.redis, container.settings.prefix)
    event = dataclasses.replace(
        event, correlation_id=event.correlation_id or event.event_id
    )
    for _ in range(ATTEMPTS - 1):
        try:
            return _append(container, log, event)
        except VersionConflictError:
            continue
    return _append(container, log, event)


def _append(container: Container, log: RedisAuditLog, event: ev.Event):
    expected = log.task_version(ev.SYSTEM_TASK_ID)
    return container.event_store.append(ev.SYSTEM_TASK_ID, [event], expected)[0]
