from __future__ import annotations

import csv
import filecmp
import functools
import hashlib
import shutil
import tempfile
import sys
import threading
from collections.abc import Iterable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.csv_catalogue import list_catalogues, read_catalogue
from domain.norms import (
    SUPERSEDED,
    CatalogueEntry,
    CatalogueFetchError,
    CatalogueUnreadableError,
    Decision,
    Norm,
    Registration,
    RejectedRow,
    Revision,
    Supersession,
    SyncReport,
    compare,
)

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "entrypoints" / "demo"
SHARED = REPO.parent / "shared" / "data" / "norms"
ENGLISH_HEADER = "code,title,kind,edition,status,superseded_by,replaces,document"
RUSSIAN_HEADER = "Обозначение;Наименование;Вид;Редакция;Статус;Заменён на;Взамен"


def sync(known: dict[str, Norm], items: Iterable) -> tuple[SyncReport, list[Decision]]:
    """Compare a catalogue with the registry and apply what it changes."""
    comparison = compare(known, items)
    decisions = list(comparison)
    for decision in decisions:
        if isinstance(decision, (Registration, Revision, Supersession)):
            known[decision.norm.code] = decision.norm
    return comparison.report, decisions


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# the shipped samples


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared samples are not here")
def test_the_demo_catalogues_are_copies_of_the_shared_samples():
    names = ["catalogue-2024.csv", "catalogue-2026.csv", "catalogue-excel-export.csv"]
    documents = sorted(p.name for p in (SHARED / "docs").iterdir())

    same, different, missing = filecmp.cmpfiles(SHARED, DEMO, names, shallow=False)
    same_docs, *problems = filecmp.cmpfiles(
        SHARED / "docs", DEMO / "docs", documents, shallow=False
    )

    assert (same, different, missing) == (names, [], [])
    assert sorted(p.name for p in (DEMO / "docs").iterdir()) == documents
    assert (len(same_docs), problems) == (5, [[], []])


def test_2024_on_an_empty_registry_registers_33_norms_and_nothing_else():
    report, _ = sync({}, read_catalogue(DEMO / "catalogue-2024.csv"))

    assert report.summary() == {
        "added": 33,
        "changed": 0,
        "revised": 0,
        "superseded": 0,
        "unchanged": 0,
        "duplicates": 0,
        "duplicate_lines": [],
        "rejections": 0,
        "rejected": [],
    }


def test_2026_after_2024_adds_14_supersedes_11_and_keeps_22():
    known: dict[str, Norm] = {}
    sync(known, read_catalogue(DEMO / "catalogue-2024.csv"))

    report, decisions = sync(known, read_catalogue(DEMO / "catalogue-2026.csv"))

    assert (report.added, report.changed, report.unchanged) == (14, 11, 22)
    assert (report.superseded, report.revised) == (11, 0)
    assert (report.duplicates, report.rejections) == (0, 0)
    superseded = {d.norm.code: d.norm for d in decisions if isinstance(d, Supersession)}
    assert superseded["СП 24.13330.2011"].superseded_by == "СП 24.13330.2021"
    assert superseded["ГОСТ Р 21.1101-2013"].superseded_by == "ГОСТ 21.101-2020"
    assert all(n.status == SUPERSEDED and n.superseded_by for n in superseded.values())
    assert all(n.superseded_by in known for n in superseded.values())


def test_2026_a_second_time_changes_nothing():
    known: dict[str, Norm] = {}
    sync(known, read_catalogue(DEMO / "catalogue-2024.csv"))
    sync(known, read_catalogue(DEMO / "catalogue-2026.csv"))

    report, _ = sync(known, read_catalogue(DEMO / "catalogue-2026.csv"))

    assert (report.added, report.changed, report.unchanged) == (0, 0, 47)


def test_linked_documents_are_recorded_with_checksum_and_size():
    known: dict[str, Norm] = {}
    sync(known, read_catalogue(DEMO / "catalogue-2026.csv"))

    body = (DEMO / "docs" / "sp-20.txt").read_bytes()
    norm = known["СП 20.13330.2016"]

    assert norm.checksum == hashlib.sha256(body).hexdigest()
    assert norm.document_size == len(body)
    assert known["СП 24.13330.2011"].checksum == ""


def test_a_superseded_edition_keeps_the_document_the_2024_catalogue_linked():
    known: dict[str, Norm] = {}
    sync(known, read_catalogue(DEMO / "catalogue-2024.csv"))
    before = known["СП 54.13330.2016"]

    sync(known, read_catalogue(DEMO / "catalogue-2026.csv"))

    assert before.checksum
    assert known["СП 54.13330.2016"].checksum == before.checksum


def test_the_spreadsheet_export_gives_7_norms_1_duplicate_and_1_rejection():
    known: dict[str, Norm] = {}

    report, _ = sync(known, read_catalogue(DEMO / "catalogue-excel-export.csv"))

    assert (report.accepted, report.added) == (7, 7)
    assert (report.duplicates, report.duplicate_lines) == (1, [7])
    assert report.rejected == [(8, "Title is missing for СП 17.13330.2017.")]
    assert {"СП 22.13330.2016", "СП 63.13330.2018", "СП 70.13330.2012"} <= set(known)
    assert known["СП 54.13330.2016"].superseded_by == "СП 54.13330.2022"


def test_the_spreadsheet_spellings_match_the_clean_registry():
    known: dict[str, Norm] = {}
    sync(known, read_catalogue(DEMO / "catalogue-2026.csv"))

    report, decisions = sync(known, read_catalogue(DEMO / "catalogue-excel-export.csv"))

    assert (report.added, report.unchanged, report.revised) == (0, 6, 1)
    [revision] = [d for d in decisions if isinstance(d, Revision)]
    assert revision.norm.code == "СП 54.13330.2022"
    assert revision.changed_fields == ("replaces",)


def test_list_catalogues_gives_the_csv_files_of_a_folder_sorted(tmp_path):
    for name in ["b.csv", "a.CSV", "~$b.csv", ".hidden.csv", "notes.txt"]:
        write(tmp_path / name, "x")
    (tmp_path / "sub.csv").mkdir()

    assert [p.name for p in list_catalogues(tmp_path)] == ["a.CSV", "b.csv"]
    assert [p.name for p in list_catalogues(DEMO)] == [
        "catalogue-2024.csv",
        "catalogue-2026.csv",
        "catalogue-excel-export.csv",
    ]


# encodings, delimiters and lines


def test_a_windows_1251_file_with_russian_headers_is_read(tmp_path):
    text = (
        RUSSIAN_HEADER + ";Документ\r\n"
        "ГОСТ 27751-2014;Надёжность строительных конструкций;ГОСТ;2014;Заменен;"
        "ГОСТ 27751-2024;;\r\n"
    )
    path = write(tmp_path / "export.csv", text, "cp1251")

    [entry] = read_catalogue(path)

    assert entry.line == 2
    assert entry.norm.title == "Надёжность строительных конструкций"
    assert (entry.norm.status, entry.norm.superseded_by) == (
        "superseded",
        "ГОСТ 27751-2024",
    )


def test_windows_1251_is_recognised_after_a_long_plain_ascii_start(tmp_path):
    plain = "".join(f"X {n},Plain title,SP,2016,active\n" for n in range(3000))
    text = "code,title,kind,edition,status\n" + plain + "СП 1,Кровли,SP,2017,active\n"
    path = write(tmp_path / "late.csv", text, "cp1251")

    *_, last = read_catalogue(path)

    assert path.stat().st_size > 65536
    assert last.norm.title == "Кровли"


def test_a_utf8_file_with_a_bom_and_odd_header_spelling_is_read(tmp_path):
    text = (
        "\ufeff Code ,TITLE,Kind,Edition,Status,Superseded By,Replaces\r\n"
        "СП 17.13330.2017,Кровли,SP,2017,active,,СНиП II-26-76\r\n"
    )
    path = write(tmp_path / "bom.csv", text)

    [entry] = read_catalogue(path)

    assert entry.norm.code == "СП 17.13330.2017"
    assert entry.norm.replaces == "СНиП II-26-76"


def test_a_quoted_value_with_line_breaks_keeps_later_line_numbers_physical(tmp_path):
    text = (
        "code;title;kind;edition;status\r\n"
        'СП 1;"Первая\r\nвторая\r\nтретья; строки";SP;2016;active\r\n'
        "\r\n"
        "СП 2;;SP;2016;active\r\n"
        'СП 3;"Одна,\nещё";SP;2016;active\r\n'
        "СП 4;Кровли;SP;20x6;active\r\n"
    )
    path = write(tmp_path / "multiline.csv", text)

    items = list(read_catalogue(path))

    assert [item.line for item in items] == [2, 6, 7, 9]
    assert items[0].norm.title == "Первая вторая третья; строки"
    assert items[1] == RejectedRow(6, "Title is missing for СП 2.")
    assert items[3] == RejectedRow(9, "Edition '20x6' is not a year.")


def test_a_row_with_more_values_than_the_header_is_rejected(tmp_path):
    text = "code,title,edition,status\nСП 1,Бетонные, железобетонные,2016,active\n"
    path = write(tmp_path / "unquoted.csv", text)

    [item] = read_catalogue(path)

    assert isinstance(item, RejectedRow) and item.line == 2
    assert "5 values but the header has 4" in item.reason


def test_progress_reports_bytes_read_up_to_the_file_size():
    path = DEMO / "catalogue-2026.csv"
    seen: list[tuple[int, int]] = []

    items = list(
        read_catalogue(path, on_progress=lambda done, total: seen.append((done, total)))
    )

    size = path.stat().st_size
    assert len(seen) == len(items) + 1
    assert seen[-1] == (size, size)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert {total for _, total in seen} == {size}


def test_a_large_catalogue_is_compared_with_flat_memory(tmp_path):
    path = tmp_path / "large.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write(ENGLISH_HEADER + "\n")
        for n in range(100_000):
            code = f"СП {n % 50}.13330.2016"
            out.write(f"{code},Нагрузки,SP,2016,active,,СНиП {n},\n")
    comparison = compare({}, read_catalogue(path))
    blocks: list[int] = []

    for count, _ in enumerate(comparison, start=1):
        if count % 5_000 == 0:
            blocks.append(sys.getallocatedblocks())

    assert comparison.report.rows == 100_000
    assert path.stat().st_size > 5_000_000
    assert max(blocks) - blocks[0] < 2_000


# documents


def test_a_document_outside_the_catalogue_folder_rejects_its_row(tmp_path):
    folder = tmp_path / "catalogues"
    folder.mkdir()
    write(tmp_path / "secret.txt", "not yours")
    rows = [
        "СП 1,Кровли,SP,2017,active,,,../secret.txt",
        f"СП 2,Полы,SP,2011,active,,,{tmp_path / 'secret.txt'}",
        "СП 3,Шум,SP,2011,active,,,docs/none.txt",
    ]
    path = write(folder / "escape.csv", "\n".join([ENGLISH_HEADER, *rows]) + "\n")

    items = list(read_catalogue(path))

    assert items == [
        RejectedRow(2, "Document '../secret.txt' is outside the catalogue folder."),
        RejectedRow(
            3, f"Document '{tmp_path / 'secret.txt'}' is outside the catalogue folder."
        ),
        RejectedRow(4, "Document 'docs/none.txt' does not exist."),
    ]


def test_a_document_link_with_backslashes_is_followed(tmp_path):
    (tmp_path / "docs").mkdir()
    write(tmp_path / "docs" / "sp-1.txt", "Текст")
    row = "СП 1,Кровли,SP,2017,active,,,docs\\sp-1.txt"
    path = write(tmp_path / "c.csv", f"{ENGLISH_HEADER}\n{row}\n")

    [entry] = read_catalogue(path)

    assert entry.norm.document_size == len("Текст".encode())


# files that cannot be read


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
        (ENGLISH_HEADER.encode("utf-16"), "UTF-16"),
        (b"", "empty"),
        ("СП 1,Кровли,SP,2017,active\n".encode(), "no recognisable header"),
        ("\n\n".encode(), "no recognisable header"),
        (b"code,title,kind\n", "lacks required columns: edition, status"),
        (b"code,title,edition,status,code\n", "repeats columns: code"),
        (b"code,title,edition,status\n\x98\x98\n", "neither UTF-8 nor Windows-1251"),
    ],
)
def test_a_file_that_is_not_a_catalogue_is_unreadable(tmp_path, content, reason):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)

    with pytest.raises(CatalogueUnreadableError) as raised:
        list(read_catalogue(path))

    assert reason in raised.value.reason
    assert raised.value.source == str(path)


def test_a_missing_file_or_a_folder_is_unreadable(tmp_path):
    with pytest.raises(CatalogueUnreadableError, match="does not exist"):
        list(read_catalogue(tmp_path / "none.csv"))
    with pytest.raises(CatalogueUnreadableError, match="is a folder"):
        list(read_catalogue(tmp_path))
    with pytest.raises(CatalogueUnreadableError, match="is not a folder"):
        list_catalogues(tmp_path / "none")


def test_only_http_and_https_urls_are_fetched():
    with pytest.raises(CatalogueUnreadableError, match="scheme 'ftp'") as raised:
        list(read_catalogue("ftp://user:secret@example.org/c.csv"))

    assert "secret" not in str(raised.value)


# over HTTP


class _Handler(SimpleHTTPRequestHandler):
    """Serves a folder, plus failures on demand."""

    def do_GET(self) -> None:
        if self.path.startswith("/status/"):
            self.send_error(int(self.path.rsplit("/", 1)[1]))
        elif self.path == "/drop":
            return
        elif self.path == "/cut":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(ENGLISH_HEADER.encode())
        else:
            super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("site")
    shutil.copytree(DEMO, root / "norms")
    write(root / "secret.txt", "not yours")
    rows = [
        "СП 1,Кровли,SP,2017,active,,,../secret.txt",
        "СП 2,Полы,SP,2011,active,,,docs/none.txt",
        "СП 3,Шум,SP,2011,active,,,docs/sp-20.txt",
    ]
    write(root / "norms" / "links.csv", "\n".join([ENGLISH_HEADER, *rows]) + "\n")
    handler = functools.partial(_Handler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_catalogue_over_http_reads_as_the_file_does(site):
    for name in [
        "catalogue-2024.csv",
        "catalogue-2026.csv",
        "catalogue-excel-export.csv",
    ]:
        from_file = list(read_catalogue(DEMO / name))

        from_url = list(read_catalogue(f"{site}/norms/{name}"))

        assert from_url == from_file


def test_http_progress_counts_the_downloaded_bytes(site):
    seen: list[tuple[int, int]] = []

    list(
        read_catalogue(
            f"{site}/norms/catalogue-2024.csv", on_progress=lambda *p: seen.append(p)
        )
    )

    size = (DEMO / "catalogue-2024.csv").stat().st_size
    assert seen[-1] == (size, size)


def test_documents_over_http_stay_below_the_catalogue_folder(site):
    items = list(read_catalogue(f"{site}/norms/links.csv"))

    assert items[0] == RejectedRow(
        2, "Document '../secret.txt' is outside the catalogue folder."
    )
    assert isinstance(items[1], RejectedRow) and "HTTP 404" in items[1].reason
    digest = hashlib.sha256((DEMO / "docs" / "sp-20.txt").read_bytes()).hexdigest()
    assert isinstance(items[2], CatalogueEntry) and items[2].norm.checksum == digest


@pytest.mark.parametrize("path", ["/status/500", "/status/503", "/drop", "/cut"])
def test_a_server_failure_or_a_dropped_connection_is_transient(site, path):
    with pytest.raises(CatalogueFetchError) as raised:
        list(read_catalogue(site + path))

    assert raised.value.transient


@pytest.mark.parametrize("status", [404, 403, 400])
def test_a_client_error_is_permanent(site, status):
    with pytest.raises(CatalogueFetchError) as raised:
        list(read_catalogue(f"{site}/status/{status}"))

    assert not raised.value.transient
    assert raised.value.status == status
    assert f"HTTP {status}" in str(raised.value)


def test_nothing_is_left_behind_after_a_download(site):
    before = set(Path(tempfile.gettempdir()).glob("catalogue-*.csv"))

    list(read_catalogue(f"{site}/norms/catalogue-2024.csv"))
    with pytest.raises(CatalogueFetchError):
        list(read_catalogue(f"{site}/cut"))

    assert set(Path(tempfile.gettempdir()).glob("catalogue-*.csv")) == before


# any catalogue written by a spreadsheet reads back as written

LETTERS = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюяABCxyz"
titles = st.text(alphabet=LETTERS + " ,;\"'.-\n", min_size=1, max_size=30).filter(
    lambda t: t.split()
)
written_norms = st.builds(
    Norm,
    code=st.builds(
        "СП {}.13330.{}".format, st.integers(1, 500), st.integers(1990, 2030)
    ),
    title=titles,
    kind=st.just("SP"),
    edition=st.integers(1990, 2030),
    status=st.sampled_from(["active", "superseded"]),
)


@settings(max_examples=60, deadline=None)
@given(
    norms=st.lists(written_norms, min_size=1, max_size=8),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]),
    delimiter=st.sampled_from([",", ";"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    russian=st.booleans(),
)
def test_a_written_catalogue_reads_back_as_written(
    norms, encoding, delimiter, newline, russian
):
    header = RUSSIAN_HEADER.split(";")[:5] if russian else ENGLISH_HEADER.split(",")[:5]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "written.csv"
        with path.open("w", encoding=encoding, newline="") as out:
            writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
            writer.writerow(header)
            writer.writerows(
                [n.code, n.title, n.kind, n.edition, n.status] for n in norms
            )

        items = list(read_catalogue(path))

    lines = [
        2 + i + sum(n.title.count("\n") for n in norms[:i]) for i in range(len(norms))
    ]
    expected = [
        CatalogueEntry(line, replace(n, title=" ".join(n.title.split())))
        for line, n in zip(lines, norms)
    ]
    assert items == expected


def test_a_utf8_file_with_rows_in_another_encoding_is_refused(tmp_path):
    rows = "".join(
        f"СП {n}.13330.2020,Свод правил номер {n},SP,2020,active\n" for n in range(10)
    )
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(
        "code,title,kind,edition,status\n".encode()
        + rows.encode()
        + "СП 99.1,Чужая строка,SP,2020,active\n".encode("cp1251")
    )

    with pytest.raises(CatalogueUnreadableError, match="mixes encodings"):
        list(read_catalogue(mixed))
