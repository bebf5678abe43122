"""``bldr audit verify`` finds the first entry that was changed, removed or
inserted with raw Redis commands, and says so with its position."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from adapters import event_codec
from entrypoints import audit
from entrypoints.cli import cli
from tests.integration import scripted_history as script


@pytest.fixture
def stream(container) -> list[tuple[str, dict]]:
    """Five finished tasks: 30 chained entries."""
    script.many_tasks(container.event_store, 5, norms_each=2)
    return container.redis.xrange(container.event_store.stream_key)


def rewrite_from(container, position: str, change) -> None:
    """Rewrite the stream from ``position`` on as someone with raw Redis access
    would: delete the tail, move the stream's last id back before it, and add the
    entries ``change`` makes of the tail, each with an explicit id."""
    r, key = container.redis, container.event_store.stream_key
    tail = r.xrange(key, position, "+")
    r.xdel(key, *[p for p, _ in tail])
    kept = r.xrevrange(key, "+", "-", count=1)
    r.execute_command("XSETID", key, kept[0][0] if kept else "0-0")
    for entry_id, fields in change(tail):
        r.xadd(key, fields, id=entry_id)


def edited(fields: dict) -> dict:
    data = json.loads(fields["data"])
    data["code"] = "СП 666"
    return {**fields, "data": json.dumps(data, ensure_ascii=False, sort_keys=True)}


def forged_after(fields: dict) -> dict:
    """An entry made to look like a successor of ``fields``: linked to its hash and
    carrying a correct hash of its own."""
    values = {**fields, "event_id": "forged", "version": "99"}
    chained = [values[name] for name in event_codec.FIELD_ORDER]
    return {
        **values,
        "prev": fields["hash"],
        "hash": event_codec.chain_hash(fields["hash"], chained),
    }


def gap_after(stream) -> int:
    """The index of an entry whose id leaves room for another before the next."""
    for index, ((a, _), (b, _)) in enumerate(zip(stream, stream[1:])):
        if a.split("-")[0] != b.split("-")[0]:
            return index
    raise AssertionError("no room between any two entries")


def verify(settings):
    return CliRunner().invoke(cli, ["audit", "verify"], obj=settings)


def test_an_untouched_stream_is_reported_intact_with_the_number_checked(
    container, settings, stream
):
    run = verify(settings)

    assert run.exit_code == 0, run.output
    assert run.stdout == f"intact: 30 events checked, newest {stream[-1][0]}\n"


def test_an_entry_edited_in_place_is_found_as_changed(container, settings, stream):
    target = stream[12][0]
    rewrite_from(
        container, target, lambda tail: [(tail[0][0], edited(tail[0][1])), *tail[1:]]
    )

    report = audit.verify(container)
    run = verify(settings)

    assert (report.broken.kind, report.broken.position) == ("changed", target)
    assert report.checked == 12
    assert run.exit_code == 1
    assert f"changed at {target}" in run.stdout


def test_a_deleted_entry_is_found_as_removed_before_its_successor(
    container, settings, stream
):
    container.redis.xdel(container.event_store.stream_key, stream[20][0])

    report = audit.verify(container)
    run = verify(settings)

    assert (report.broken.kind, report.broken.position) == ("removed", stream[21][0])
    assert report.broken.after == stream[19][0]
    assert run.exit_code == 1
    assert f"removed at {stream[21][0]}" in run.stdout


def test_an_entry_inserted_between_two_others_is_found_as_inserted(
    container, settings, stream
):
    index = gap_after(stream)
    before, after = stream[index], stream[index + 1]
    inserted_id = f"{before[0].split('-')[0]}-999"
    rewrite_from(
        container,
        after[0],
        lambda tail: [(inserted_id, forged_after(before[1])), *tail],
    )

    report = audit.verify(container)
    run = verify(settings)

    assert (report.broken.kind, report.broken.position) == ("inserted", inserted_id)
    assert run.exit_code == 1
    assert f"inserted at {inserted_id}" in run.stdout


def test_the_newest_entry_deleted_is_found_from_the_chain_head(container, stream):
    container.redis.xdel(container.event_store.stream_key, stream[-1][0])

    report = audit.verify(container)

    assert report.broken.kind == "removed"
    assert report.broken.after == stream[-2][0]


def test_an_entry_appended_behind_the_stores_back_is_found_as_inserted(
    container, stream
):
    container.redis.xadd(container.event_store.stream_key, forged_after(stream[-1][1]))

    report = audit.verify(container)

    assert report.broken.kind == "inserted"
    assert report.checked == 30


def test_the_first_entry_deleted_is_found(container, stream):
    container.redis.xdel(container.event_store.stream_key, stream[0][0])

    report = audit.verify(container)

    assert (report.broken.kind, report.broken.position) == ("removed", stream[1][0])
