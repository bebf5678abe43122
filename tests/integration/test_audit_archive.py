"""Archiving exports finished history, trims only what was exported, and leaves a
chain that still verifies across the archive boundary."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from adapters import jsonl_archive
from entrypoints import audit
from entrypoints.cli import cli
from tests.integration import scripted_history as script
from tests.integration.test_norms_update import project

SOON = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")


def bldr(settings, *args: str):
    return CliRunner().invoke(cli, list(args), obj=settings)


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "archive"


def stream_types(container) -> list[tuple[str, str]]:
    entries = container.redis.xrange(container.event_store.stream_key)
    return [(f["task_id"], f["type"]) for _, f in entries]


def test_finished_history_moves_to_a_file_and_the_chain_still_verifies(
    container, settings, folder
):
    script.many_tasks(container.event_store, 4)
    project(container)
    entries = container.redis.xrange(container.event_store.stream_key)

    archived = bldr(settings, "audit", "archive", "--before", SOON, "--to", str(folder))
    stream_only = bldr(settings, "audit", "verify")
    with_archive = bldr(settings, "audit", "verify", "--archive", str(folder))

    assert archived.exit_code == 0, archived.output
    [path] = jsonl_archive.archives(folder)
    assert list(jsonl_archive.read(path)) == entries
    assert stream_types(container) == [("system", "StreamArchived")]
    assert stream_only.stdout.startswith("intact: 1 events checked")
    assert with_archive.stdout.startswith(f"intact: {len(entries) + 1} events checked")
    boundary = container.redis.hgetall(f"{settings.prefix}:archive")
    assert boundary["position"] == entries[-1][0]
    assert boundary["hash"] == entries[-1][1]["hash"]
    assert container.event_store.history("task-0000") == []


def test_the_archive_event_records_who_archived_what(container, folder):
    script.many_tasks(container.event_store, 2)
    project(container)

    done = audit.archive(
        container,
        datetime.now(timezone.utc) + timedelta(days=1),
        folder,
        "cli:alice@host",
    )

    [recorded] = container.event_store.history("system")
    event = recorded.event
    assert event.actor == "cli:alice@host"
    assert (event.archive, event.events) == (done.path.name, 14)
    assert event.last_hash == done.written.last_hash
    assert event.sha256 == done.written.sha256


def test_an_open_task_keeps_its_history_and_everything_after_it(container, folder):
    store = container.event_store
    script.finished_task(store, "done-first", ["СП 1"])
    script.submit(store, "still-running")
    script.start(store, "still-running")
    script.finished_task(store, "done-later", ["СП 2"])
    project(container)

    done = audit.archive(
        container, datetime.now(timezone.utc) + timedelta(days=1), folder, "cli:test"
    )

    assert done.written.events == 5
    assert store.history("done-first") == []
    assert len(store.history("still-running")) == 2
    assert len(store.history("done-later")) == 5
    assert audit.verify(container).intact


def test_nothing_is_trimmed_that_the_projector_has_not_acknowledged(
    container, settings, folder
):
    script.many_tasks(container.event_store, 2)

    run = bldr(settings, "audit", "archive", "--before", SOON, "--to", str(folder))

    assert run.stdout == "nothing to archive yet\n"
    assert container.redis.xlen(container.event_store.stream_key) == 14
    assert not folder.exists()


def test_a_changed_archive_file_is_found_by_verify(container, settings, folder):
    script.many_tasks(container.event_store, 2)
    project(container)
    audit.archive(
        container, datetime.now(timezone.utc) + timedelta(days=1), folder, "cli:test"
    )
    [path] = jsonl_archive.archives(folder)
    lines = path.read_text(encoding="utf-8").splitlines()
    changed = json.loads(lines[3])
    changed["actor"] = "token:someone-else"
    lines[3] = json.dumps(changed, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    run = bldr(settings, "audit", "verify", "--archive", str(folder))

    assert run.exit_code == 1
    assert f"changed at {changed['position']}" in run.stdout


def test_a_replay_check_reads_the_archive_before_the_stream(
    container, settings, folder
):
    script.many_tasks(container.event_store, 3)
    project(container)
    audit.archive(
        container, datetime.now(timezone.utc) + timedelta(days=1), folder, "cli:test"
    )
    script.finished_task(container.event_store, "after-archive", ["СП 9"])
    project(container)

    without = bldr(settings, "replay", "--check")
    with_archive = bldr(settings, "replay", "--check", "--archive", str(folder))

    assert without.exit_code == 1
    assert "archived up to" in without.output
    assert with_archive.exit_code == 0, with_archive.output
