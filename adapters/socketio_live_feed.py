"""The live feed: task changes pushed to dashboards through python-socketio.

Processes other than the API publish on the Redis channel ``<prefix>-socketio``
with a write-only manager; the API's Socket.IO server relays to its clients in the
room ``queue``. An emit is not proof of delivery: clients that missed one catch
up from the stream position each update carries.
"""

from __future__ import annotations

import logging
from typing import Any

import socketio

logger = logging.getLogger(__name__)

ROOM = "queue"
EVENT = "tasks"


def channel(prefix: str) -> str:
    return f"{prefix}-socketio"


class SocketIOLiveFeed:
    def __init__(self, redis_url: str, prefix: str):
        self._manager = socketio.RedisManager(
            redis_url, channel=channel(prefix), write_only=True
        )

    def publish(self, updates: list[dict[str, Any]]) -> None:
        """Send one batch of task updates to every authenticated dashboard."""
        if updates:
            self._manager.emit(EVENT, {"tasks": updates}, room=ROOM, namespace="/")
