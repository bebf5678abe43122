"""Catalogue rows that would poison the registry or its indexes are rejected."""

from __future__ import annotations

import pytest

from domain.norms import CatalogueEntry, RejectedRow, entry_from_row


def row(**fields) -> dict[str, str]:
    return {
        "code": "СП 1.13330.2020",
        "title": "Свод правил",
        "kind": "SP",
        "edition": "2020",
        "status": "active",
        **fields,
    }


@pytest.mark.parametrize(
    "code, words",
    [
        ("СП " + "7" * 500, "over 120 characters"),
        ("\u202eСП 70.13330.2012", "invisible or control"),
        ("СП 70.13330.2012\u00ad", "invisible or control"),
        ("СП\u180e70.13330.2012", "invisible or control"),
    ],
)
def test_codes_that_could_pass_for_others_or_break_indexes_are_rejected(code, words):
    entry = entry_from_row(5, row(code=code))

    assert isinstance(entry, RejectedRow)
    assert entry.line == 5
    assert words in entry.reason


def test_control_characters_are_taken_out_of_titles():
    entry = entry_from_row(2, row(title="Свод\x1b[31m правил\x7f"))

    assert isinstance(entry, CatalogueEntry)
    assert entry.norm.title == "Свод [31m правил"


def test_an_overlong_title_is_rejected():
    entry = entry_from_row(3, row(title="т" * 3000))

    assert isinstance(entry, RejectedRow)
    assert "Title" in entry.reason
