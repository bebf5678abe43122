from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.norms import (
    ACTIVE,
    GOST,
    SP,
    SUPERSEDED,
    CatalogueEntry,
    Decision,
    Duplicate,
    LinkedDocument,
    NoChange,
    Norm,
    Registration,
    RejectedRow,
    Revision,
    Supersession,
    SyncReport,
    compare,
    entry_from_row,
    normalise_code,
)

LATIN_TWINS = {"А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "К": "K", "М": "M"}
LATIN_TWINS |= {"О": "O", "Р": "P", "Т": "T", "Х": "X", "У": "Y"}
SPACES = [" ", "  ", "\u00a0", "\u2009", "\u202f", "\t", " \u00a0 "]


def a_norm(**changes: object) -> Norm:
    norm = Norm(
        code="СП 20.13330.2016",
        title="Нагрузки и воздействия",
        kind=SP,
        edition=2016,
        replaces="СНиП 2.01.07-85*",
    )
    return dataclasses.replace(norm, **changes)


def a_row(**changes: str) -> dict[str, str]:
    row = {
        "code": "СП 20.13330.2016",
        "title": "Нагрузки и воздействия",
        "kind": "SP",
        "edition": "2016",
        "status": "active",
        "superseded_by": "",
        "replaces": "СНиП 2.01.07-85*",
    }
    return row | changes


def entries_of(*norms: Norm, first_line: int = 2) -> list[CatalogueEntry]:
    return [CatalogueEntry(first_line + i, norm) for i, norm in enumerate(norms)]


def registry_after(known: dict[str, Norm], decisions: Iterable[Decision]) -> None:
    for decision in decisions:
        if isinstance(decision, (Registration, Revision, Supersession)):
            known[decision.norm.code] = decision.norm


# normalise_code


def test_a_latin_c_in_the_prefix_is_the_same_code_as_the_cyrillic_one():
    assert normalise_code("CП 22.13330.2016") == "СП 22.13330.2016"


def test_non_breaking_and_trailing_spaces_are_not_part_of_a_code():
    assert normalise_code("СП\u00a063.13330.2018") == "СП 63.13330.2018"
    assert normalise_code("  СП   70.13330.2012 ") == "СП 70.13330.2012"


def test_a_two_word_prefix_keeps_working_with_latin_twins():
    assert normalise_code("ГОСТ P 21.1101-2013") == "ГОСТ Р 21.1101-2013"
    assert normalise_code("ГOCT Р 21.1101-2013") == "ГОСТ Р 21.1101-2013"
    assert normalise_code("CTO 36554501-014-2008") == "СТО 36554501-014-2008"


def test_latin_words_of_international_standards_stay_latin():
    assert normalise_code("ГОСТ ISO 9001-2015") == "ГОСТ ISO 9001-2015"
    assert normalise_code("ГОСТ Р EN 1990-2011") == "ГОСТ Р EN 1990-2011"


def test_the_numeric_part_is_kept_as_written():
    assert normalise_code("СНиП II-26-76") == "СНиП II-26-76"
    assert normalise_code("СП 13-102-2003") == "СП 13-102-2003"
    assert normalise_code("СП 1.13130.2009 A") == "СП 1.13130.2009 A"


def test_a_decomposed_letter_is_composed():
    assert normalise_code("ГОСТ Р 5Й") == normalise_code("ГОСТ Р 5И\u0306")


def test_an_empty_or_blank_code_normalises_to_nothing():
    assert normalise_code("") == ""
    assert normalise_code(" \u00a0\u200b ") == ""


@given(st.text())
def test_normalising_a_code_twice_changes_nothing(raw):
    once = normalise_code(raw)

    assert normalise_code(once) == once


@st.composite
def spelled_codes(draw) -> tuple[str, str]:
    """A clean code and the same code misspelt with Latin twins and odd spaces."""
    prefix = draw(st.sampled_from(["СП", "ГОСТ", "ГОСТ Р", "СНиП", "СТО", "ТСН"]))
    number = draw(st.from_regex(r"[0-9IVX]{1,4}([.\-][0-9]{1,6}){1,3}", fullmatch=True))
    clean = f"{prefix} {number}"
    words = clean.split(" ")
    twins = [
        "".join(LATIN_TWINS.get(c, c) if draw(st.booleans()) else c for c in word)
        for word in words[:-1]
    ]
    gaps = [draw(st.sampled_from(SPACES)) for _ in words]
    edge = draw(st.sampled_from(["", " ", "\u00a0", "\ufeff"]))
    body = "".join(w + g for w, g in zip(twins, gaps)) + words[-1]
    return clean, edge + body + edge


@given(spelled_codes())
def test_look_alike_letters_and_space_variants_name_the_same_code(spelling):
    clean, misspelt = spelling

    assert normalise_code(misspelt) == clean


# entry_from_row


def test_a_valid_row_becomes_an_entry_with_its_line():
    item = entry_from_row(5, a_row())

    assert item == CatalogueEntry(5, a_norm())


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        ("СП", "Действует", (SP, ACTIVE)),
        ("гост", "ЗАМЕНЁН", (GOST, SUPERSEDED)),
        ("Sp", "Заменен", (SP, SUPERSEDED)),
        ("CП", "Superseded", (SP, SUPERSEDED)),
        ("ГОСТ", "ACTIVE", (GOST, ACTIVE)),
    ],
)
def test_kind_and_status_are_understood_in_russian_and_english(kind, status, expected):
    row = a_row(kind=kind, status=status, superseded_by="СП 20.13330.2026")

    item = entry_from_row(3, row)

    assert (item.norm.kind, item.norm.status) == expected


def test_an_empty_kind_is_told_by_the_code_prefix():
    sp = entry_from_row(2, a_row(kind=""))
    gost = entry_from_row(2, a_row(kind="", code="ГОСТ Р 21.1101-2013"))

    assert sp.norm.kind == SP
    assert gost.norm.kind == GOST


def test_codes_and_titles_are_cleaned():
    row = a_row(code="CП\u00a020.13330.2016 ", title="  Нагрузки \u00a0и воздействия ")
    item = entry_from_row(
        2, row | {"superseded_by": "", "replaces": "CНиП 2.01.07-85*"}
    )

    assert item == CatalogueEntry(2, a_norm())


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"code": " "}, "Code is missing."),
        ({"title": ""}, "Title is missing for СП 20.13330.2016."),
        ({"status": "x"}, "Status 'x' is unknown; expected active or superseded."),
        ({"status": ""}, "Status is missing."),
        ({"edition": "x"}, "Edition 'x' is not a year."),
        ({"edition": "16"}, "Edition '16' is not a year."),
        ({"edition": "２０１６"}, "Edition '２０１６' is not a year."),
        ({"edition": ""}, "Edition is missing."),
        ({"kind": "СНиП"}, "Kind 'СНиП' is unknown; expected SP or GOST."),
        (
            {"kind": "", "code": "СНиП II-26-76"},
            "Kind is missing and code 'СНиП II-26-76' does not show it.",
        ),
        (
            {"superseded_by": "CП 20.13330.2016", "status": "superseded"},
            "Norm СП 20.13330.2016 cannot be superseded by itself.",
        ),
    ],
)
def test_a_bad_row_is_rejected_with_a_reason_naming_field_and_value(changes, reason):
    item = entry_from_row(8, a_row(**changes))

    assert item == RejectedRow(8, reason)


def test_a_linked_document_is_recorded_on_the_norm():
    entry = entry_from_row(2, a_row())

    linked = entry.with_document(LinkedDocument("ab" * 32, 655))

    assert (linked.norm.checksum, linked.norm.document_size) == ("ab" * 32, 655)


# compare


def test_an_unknown_code_is_registered():
    decisions = list(compare({}, entries_of(a_norm())))

    assert decisions == [Registration(2, a_norm())]


def test_a_norm_stated_as_known_is_unchanged():
    known = {a_norm().code: a_norm()}

    assert list(compare(known, entries_of(a_norm()))) == [NoChange(2, a_norm().code)]


def test_a_norm_going_superseded_with_its_replacement_is_a_supersession():
    known = {a_norm().code: a_norm()}
    now = a_norm(status=SUPERSEDED, superseded_by="СП 20.13330.2026")

    decisions = list(compare(known, entries_of(now)))

    assert decisions == [Supersession(2, now)]


def test_a_supersession_with_another_change_is_a_revision():
    known = {a_norm().code: a_norm()}
    now = a_norm(status=SUPERSEDED, superseded_by="СП 20.13330.2026", title="Другое")

    decisions = list(compare(known, entries_of(now)))

    assert decisions == [Revision(2, now, ("title", "status", "superseded_by"))]


def test_going_superseded_without_a_replacement_is_a_revision():
    known = {a_norm().code: a_norm()}
    now = a_norm(status=SUPERSEDED)

    assert list(compare(known, entries_of(now))) == [Revision(2, now, ("status",))]


def test_a_row_without_a_document_keeps_the_document_the_registry_has():
    known_norm = a_norm(checksum="ab" * 32, document_size=655)
    now = a_norm(status=SUPERSEDED, superseded_by="СП 20.13330.2026")

    decisions = list(compare({known_norm.code: known_norm}, entries_of(now)))

    kept = dataclasses.replace(now, checksum="ab" * 32, document_size=655)
    assert decisions == [Supersession(2, kept)]


def test_restating_a_norm_without_its_document_changes_nothing():
    known_norm = a_norm(checksum="ab" * 32, document_size=655)

    decisions = list(compare({known_norm.code: known_norm}, entries_of(a_norm())))

    assert decisions == [NoChange(2, known_norm.code)]


def test_a_new_document_is_a_revision_of_checksum_and_size():
    known_norm = a_norm(checksum="ab" * 32, document_size=655)
    now = a_norm(checksum="cd" * 32, document_size=700)

    decisions = list(compare({known_norm.code: known_norm}, entries_of(now)))

    assert decisions == [Revision(2, now, ("checksum", "document_size"))]


def test_an_exact_repeat_in_one_catalogue_is_a_duplicate_counted_once():
    comparison = compare({}, entries_of(a_norm(), a_norm(), a_norm()))

    decisions = list(comparison)

    assert decisions[1:] == [
        Duplicate(3, a_norm().code, 2),
        Duplicate(4, a_norm().code, 2),
    ]
    assert (comparison.report.added, comparison.report.duplicates) == (1, 2)
    assert comparison.report.duplicate_lines == [3, 4]


def test_a_conflicting_repeat_is_rejected_naming_the_earlier_line():
    known = {a_norm().code: a_norm()}
    comparison = compare(
        known, entries_of(a_norm(title="Иное"), a_norm(), first_line=7)
    )

    decisions = list(comparison)

    assert decisions[0] == Revision(7, a_norm(title="Иное"), ("title",))
    assert decisions[1] == RejectedRow(
        8,
        "Code СП 20.13330.2016 already appears on line 7; this row differs in title.",
    )


def test_rejected_rows_pass_through_and_are_counted():
    rejected = RejectedRow(8, "Title is missing for СП 17.13330.2017.")
    comparison = compare({}, [*entries_of(a_norm()), rejected])

    decisions = list(comparison)

    assert decisions[-1] is rejected
    assert comparison.report.rejected == [(8, rejected.reason)]
    assert comparison.report.summary()["rejected"] == [[8, rejected.reason]]


def test_norms_a_catalogue_does_not_mention_are_left_alone():
    other = a_norm(code="СП 22.13330.2016", title="Основания")
    known = {a_norm().code: a_norm(), other.code: other}

    comparison = compare(known, entries_of(a_norm()))

    assert list(comparison) == [NoChange(2, a_norm().code)]
    assert known[other.code] is other


def test_comparison_reads_entries_lazily_once():
    def entries() -> Iterator[CatalogueEntry]:
        yield CatalogueEntry(2, a_norm())
        raise AssertionError("read past the first entry")

    comparison = compare({}, entries())

    assert next(comparison) == Registration(2, a_norm())
    assert comparison.report.added == 1


def test_the_report_keeps_exact_counts_but_bounded_details():
    report = SyncReport(detail_limit=2)

    for line in range(5):
        report.record(RejectedRow(line, "Code is missing."))

    assert report.rejections == 5
    assert len(report.rejected) == 2


# properties of compare

CODES = [f"{p} {n}.13330.2016" for p in ("СП", "ГОСТ") for n in range(1, 5)]

norms = st.builds(
    Norm,
    code=st.sampled_from(CODES),
    title=st.sampled_from(["Кровли", "Полы", "Защита от шума"]),
    kind=st.sampled_from([SP, GOST]),
    edition=st.integers(2000, 2003),
    status=st.sampled_from([ACTIVE, SUPERSEDED]),
    superseded_by=st.sampled_from(["", "СП 9.13330.2020"]),
    checksum=st.sampled_from(["", "ab" * 32]),
    document_size=st.just(0),
)
catalogue_items = st.lists(st.one_of(norms, st.just(None)), max_size=20).map(
    lambda items: [
        (
            RejectedRow(i + 2, "Code is missing.")
            if norm is None
            else CatalogueEntry(i + 2, norm)
        )
        for i, norm in enumerate(items)
    ]
)
registries = st.dictionaries(st.sampled_from(CODES), norms).map(
    lambda found: {code: dataclasses.replace(n, code=code) for code, n in found.items()}
)


@given(registries, catalogue_items)
def test_comparing_the_same_catalogue_again_finds_nothing_changed(known, items):
    registry_after(known, compare(known, items))

    decisions = list(compare(known, items))

    assert not [d for d in decisions if isinstance(d, (Registration, Revision))]
    assert not [d for d in decisions if isinstance(d, Supersession)]


@given(registries, catalogue_items)
def test_report_counts_add_up_to_the_rows_read(known, items):
    comparison = compare(known, items)

    decisions = list(comparison)

    report = comparison.report
    distinct = {i.norm.code for i in items if isinstance(i, CatalogueEntry)}
    assert report.rows == len(items) == len(decisions)
    assert report.accepted == len(distinct)
    assert report.added == len(distinct - set(known))
    assert report.changed == report.revised + report.superseded


@given(catalogue_items)
def test_each_row_gets_one_decision_carrying_its_line(items):
    decisions = list(compare({}, items))

    assert [d.line for d in decisions] == [i.line for i in items]
