"""Reading the history as an auditor: who caused each event, a task's timeline,
exports by time, and the queue as it stood at a moment."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from adapters import jsonl_archive
from entrypoints import history
from entrypoints.cli import cli
from entrypoints.replay import Replay
from tests.integration import scripted_history as script
from tests.integration.test_norms_update import update

T0 = script.T0
ACTOR = re.compile(r"token:[\w.-]+|scheduler|worker:.+|cli:.+")


def bldr(settings, *args: str):
    return CliRunner().invoke(cli, list(args), obj=settings)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def scripted_day(container):
    """t1 runs 9:00-9:03 and succeeds; t2 is submitted at 9:02 and fails at 9:05;
    t3 is submitted at 9:06 and waits."""
    store = container.event_store
    script.submit(store, "t1", at(0))
    script.start(store, "t1", at(1))
    script.submit(store, "t2", at(2))
    script.register(store, "t1", ["СП 1"], at(2.5))
    script.succeed(store, "t1", at(3))
    script.start(store, "t2", at(4))
    script.fail(store, "t2", at(5))
    script.submit(store, "t3", at(6))


def statuses(tasks) -> list[tuple[str, str]]:
    return [(t.task_id, t.status.value) for t in tasks]


@pytest.mark.usefixtures("scripted_day")
def test_the_queue_as_of_three_moments_of_a_scripted_day(container):
    assert statuses(history.queue_as_of(container, at(0.5))) == [("t1", "queued")]
    assert statuses(history.queue_as_of(container, at(2.7))) == [
        ("t2", "queued"),
        ("t1", "running"),
    ]
    assert statuses(history.queue_as_of(container, at(10))) == [
        ("t3", "queued"),
        ("t2", "failed"),
        ("t1", "succeeded"),
    ]
    assert history.queue_as_of(container, at(-1)) == []


@pytest.mark.usefixtures("scripted_day")
def test_the_audit_queue_command_prints_the_queue_as_of_a_moment(settings):
    run = bldr(settings, "audit", "queue", "--as-of", "2026-12-01T09:02:45")

    lines = run.stdout.splitlines()
    assert run.exit_code == 0, run.output
    assert [line.split()[:2] for line in lines] == [["t2", "queued"], ["t1", "running"]]


@pytest.mark.usefixtures("scripted_day")
def test_a_task_timeline_reads_oldest_first_with_who_did_what(settings):
    run = bldr(settings, "audit", "task", "t1")

    lines = run.stdout.splitlines()
    assert run.exit_code == 0, run.output
    assert [line.split()[4] for line in lines] == [
        "TaskSubmitted",
        "TaskStarted",
        "NormRegistered",
        "TaskProgressed",
        "TaskSucceeded",
    ]
    assert lines[0].startswith("2026-12-01 09:00:00.000000 UTC  v1")
    assert "token:ops" in lines[0] and "worker:w1" in lines[1]
    assert "code=СП 1" in lines[2]


def test_an_unknown_task_has_no_timeline(container, settings):
    run = bldr(settings, "audit", "task", "nobody")

    assert run.exit_code == 1
    assert "no task with id nobody" in run.output


def test_an_export_holds_the_entries_recorded_in_its_time_range(
    container, settings, tmp_path
):
    script.finished_task(container.event_store, "early", ["СП 1"])
    time.sleep(0.01)
    seconds, micros = container.redis.time()
    middle = datetime.fromtimestamp(seconds + micros / 1e6, timezone.utc)
    time.sleep(0.01)
    script.finished_task(container.event_store, "late", ["СП 2"])
    out = tmp_path / "late.jsonl"

    run = bldr(
        settings,
        "audit",
        "export",
        "--since",
        middle.strftime("%Y-%m-%dT%H:%M:%S.%f+0000"),
        "--out",
        str(out),
    )
    everything = bldr(settings, "audit", "export")

    exported = list(jsonl_archive.read(out))
    assert run.exit_code == 0, run.output
    assert {fields["task_id"] for _, fields in exported} == {"late"}
    assert len(exported) == 5
    assert len(everything.stdout.splitlines()) == 10
    assert json.loads(everything.stdout.splitlines()[0])["task_id"] == "early"


def test_every_event_of_a_norms_update_names_who_caused_it_and_its_command(
    container, catalogues
):
    done = update(container, str(catalogues / "catalogue-2024.csv"))
    Replay(container, "cli:alice@host", progress=False).rebuild()

    entries = container.redis.xrange(container.event_store.stream_key)
    task_events = [f for _, f in entries if f["task_id"] == done.task_id]
    submitted, *later = task_events
    assert submitted["actor"] == "token:test"
    assert submitted["correlation_id"] == done.correlation_id != ""
    assert all(f["actor"].startswith("worker:") for f in later)
    assert {f["correlation_id"] for f in task_events} == {done.correlation_id}
    assert all(ACTOR.fullmatch(f["actor"]) for _, f in entries)
    [replayed] = [f for _, f in entries if f["task_id"] == "system"]
    assert replayed["actor"] == "cli:alice@host"
    assert replayed["correlation_id"] == replayed["event_id"]
