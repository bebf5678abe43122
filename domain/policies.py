"""How each task type is run: attempts, backoff, time limit and concurrency."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class TaskPolicy:
    """The limits one task type runs under; ``concurrency`` 1 means one at a time
    across every worker process and host, 0 means no limit."""

    max_attempts: int = 4
    backoff_s: float = 5.0
    max_backoff_s: float = 300.0
    time_limit_s: float = 3600.0
    concurrency: int = 0

    @property
    def max_deliveries(self) -> int:
        """Deliveries after which a task is given up even if no attempt was
        recorded: a message whose process dies before it can record anything."""
        return 2 * self.max_attempts + 2

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed ``attempt``: exponential, capped, with
        full jitter on the upper half so retries of many tasks spread out."""
        ceiling = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        return round(ceiling / 2 + (rng or random).uniform(0, ceiling / 2), 3)
