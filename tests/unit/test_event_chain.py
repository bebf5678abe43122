"""The chain walk tells a changed, a removed and an inserted entry apart."""

from __future__ import annotations

from adapters import event_chain
from adapters.event_codec import FIELD_ORDER, chain_hash


def chained(count: int, prev: str = "") -> list[tuple[str, dict[str, str]]]:
    entries = []
    for n in range(count):
        entries.append((f"{n + 1}-0", entry(prev, f"e{n}")))
        prev = entries[-1][1]["hash"]
    return entries


def entry(prev: str, event_id: str, data: str = "{}") -> dict[str, str]:
    values = [
        event_id,
        "t1",
        "TaskProgressed",
        "1",
        "2026-01-01T00:00:00",
        "1",
        "worker:w",
        "c1",
        data,
    ]
    fields = dict(zip(FIELD_ORDER, values))
    return {**fields, "prev": prev, "hash": chain_hash(prev, values)}


def broken(report) -> tuple[str, str]:
    return report.broken.kind, report.broken.position


def test_an_intact_chain_reports_every_entry_checked():
    entries = chained(5)

    report = event_chain.verify(entries, head_hash=entries[-1][1]["hash"])

    assert report.intact
    assert (report.checked, report.last_position) == (5, "5-0")


def test_a_changed_value_is_found_at_its_entry():
    entries = chained(5)
    entries[2][1]["data"] = '{"percent": 99}'

    assert broken(event_chain.verify(entries)) == ("changed", "3-0")


def test_a_missing_entry_is_found_before_the_one_that_follows_it():
    entries = chained(5)
    del entries[2]

    report = event_chain.verify(entries)

    assert broken(report) == ("removed", "4-0")
    assert report.broken.after == "2-0"


def test_an_inserted_entry_with_a_wrong_link_is_found():
    entries = chained(5)
    entries.insert(2, ("2-5", entry("nonsense", "forged")))

    assert broken(event_chain.verify(entries)) == ("inserted", "2-5")


def test_an_inserted_entry_that_links_well_is_found_by_its_successor():
    entries = chained(5)
    entries.insert(2, ("2-5", entry(entries[1][1]["hash"], "forged")))

    report = event_chain.verify(entries)

    assert broken(report) == ("inserted", "2-5")
    assert report.checked == 2


def test_a_rewritten_entry_with_a_new_hash_shows_as_a_break_after_it():
    entries = chained(5)
    entries[2] = ("3-0", entry(entries[1][1]["hash"], "e2", '{"x": 1}'))

    assert broken(event_chain.verify(entries)) == ("removed", "4-0")


def test_a_chain_continues_from_an_archive_boundary():
    entries = chained(3, prev="boundary-hash")

    report = event_chain.verify(entries, "boundary-hash", "0-9", entries[-1][1]["hash"])

    assert report.intact and report.checked == 3


def test_a_head_beyond_the_newest_entry_means_entries_were_removed_at_the_end():
    entries = chained(5)

    report = event_chain.verify(entries[:4], head_hash=entries[4][1]["hash"])

    assert broken(report) == ("removed", "")
    assert report.broken.after == "4-0"
