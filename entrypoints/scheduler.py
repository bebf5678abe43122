"""The scheduler process: fires the daily norms update.

The idempotency key is the schedule slot (the date in the configured time zone), so
a second scheduler or a restart inside the same day makes no second task.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from domain import services
from domain.commands import UpdateNorms
from entrypoints.bootstrap import Container

logger = logging.getLogger(__name__)

MISFIRE_GRACE_S = 3 * 3600


def fire_norms_update(container: Container, now: datetime | None = None):
    """Submit the scheduled norms update for the slot that ``now`` falls in."""
    s = container.settings
    slot = (now or datetime.now(ZoneInfo(s.time_zone))).date().isoformat()
    command = UpdateNorms(
        actor="scheduler",
        idempotency_key=f"schedule:update_norms:{slot}",
        priority="normal",
        sources=s.default_sources,
    )
    task, created = services.submit(
        command, container.event_store, container.task_queue, s.idempotency_ttl_s
    )
    logger.info(
        "scheduled norms update for %s: %s",
        slot,
        "submitted" if created else "already submitted",
        extra={"task_id": task.task_id},
    )
    return task


def build(container: Container) -> BlockingScheduler:
    s = container.settings
    zone = ZoneInfo(s.time_zone)
    scheduler = BlockingScheduler(timezone=zone)
    scheduler.add_job(
        fire_norms_update,
        CronTrigger.from_crontab(s.schedule_cron, timezone=zone),
        args=[container],
        id="update_norms",
        coalesce=True,
        misfire_grace_time=MISFIRE_GRACE_S,
        max_instances=1,
    )
    return scheduler


def main(container: Container) -> None:
    scheduler = build(container)
    logger.info(
        "scheduler started: norms update at '%s' %s",
        container.settings.schedule_cron,
        container.settings.time_zone,
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        logger.info("scheduler stopped")
