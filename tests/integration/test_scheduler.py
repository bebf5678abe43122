"""The daily norms update: fired at 03:00 Moscow time, once per day however many
schedulers fire it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from entrypoints import scheduler
from entrypoints.bootstrap import Container

MOSCOW = ZoneInfo("Europe/Moscow")


def test_the_job_fires_daily_at_three_in_the_morning_moscow_time(settings):
    built = scheduler.build(Container(settings))
    job = built.get_job("update_norms")
    after = datetime(2026, 12, 3, 12, 0, tzinfo=MOSCOW)

    first = job.trigger.get_next_fire_time(None, after)
    second = job.trigger.get_next_fire_time(first, first + timedelta(seconds=1))

    assert first == datetime(2026, 12, 4, 3, 0, tzinfo=MOSCOW)
    assert second - first == timedelta(days=1)
    assert first.astimezone(ZoneInfo("UTC")).hour == 0
    assert job.misfire_grace_time >= 3600 and job.coalesce


def test_two_schedulers_firing_the_same_day_make_one_task(settings, container):
    other = Container(settings)
    at = datetime(2026, 12, 4, 3, 0, 5, tzinfo=MOSCOW)

    first = scheduler.fire_norms_update(container, at)
    second = scheduler.fire_norms_update(other, at + timedelta(minutes=3))
    next_day = scheduler.fire_norms_update(container, at + timedelta(days=1))

    assert first.task_id == second.task_id
    assert next_day.task_id != first.task_id
    submitted = [
        f
        for _, f in container.redis.xrange(container.event_store.stream_key)
        if f["type"] == "TaskSubmitted"
    ]
    assert len(submitted) == 2
    assert {f["actor"] for f in submitted} == {"scheduler"}
    assert first.priority == "normal"
    other.close()
