"""Parsing documents made in memory, and turning free text into index queries."""

from __future__ import annotations

import pytest

from adapters.document_parser import parse_document
from adapters.sqlite_search_index import SearchQueryError, match_expression
from domain import documents as dc
from domain.documents import SourceDocument, UnparsableDocumentError
from tests.sample_documents import DAMAGED_PDF, HTML_PAGE, pdf_bytes


def linked(link: str, content: bytes, title: str = "Из каталога") -> SourceDocument:
    return SourceDocument(code="СП 1", title=title, link=link, line=2, content=content)


def test_a_pdf_gives_its_text_pages_and_information_title():
    content = pdf_bytes(["Snow loads on roofs", "Wind (gusts)"], title="Loads")

    parsed = parse_document(linked("docs/sp.pdf", content))

    assert parsed.kind == dc.PDF
    assert parsed.text == "Snow loads on roofs\nWind (gusts)"
    assert (parsed.title, parsed.pages, parsed.size) == ("Loads", 1, len(content))
    assert parsed.checksum == linked("x", content).checksum


def test_a_pdf_without_a_title_takes_the_catalogue_s():
    parsed = parse_document(linked("sp.pdf", pdf_bytes(["Text"]), title="Нагрузки"))

    assert parsed.title == "Нагрузки"


def test_a_damaged_pdf_is_refused_with_a_readable_reason():
    with pytest.raises(UnparsableDocumentError) as refused:
        parse_document(linked("docs/broken.pdf", DAMAGED_PDF))

    assert refused.value.link == "docs/broken.pdf"
    assert refused.value.reason.startswith("not a readable PDF")


def test_html_gives_the_body_text_without_scripts_and_its_title():
    parsed = parse_document(linked("gost.html", HTML_PAGE.encode()))

    assert parsed.kind == dc.HTML
    assert parsed.title == "ГОСТ 27751-2014 Надёжность строительных конструкций"
    assert parsed.text.startswith("Надёжность строительных конструкций и оснований\n")
    assert "устанавливает общие положения" in parsed.text
    assert "скрипт" not in parsed.text and "color" not in parsed.text
    assert parsed.language == "ru"


def test_html_declared_in_windows_1251_is_read_as_such():
    page = '<html><head><meta charset="windows-1251"></head><body>Основания</body>'

    parsed = parse_document(linked("page.htm", page.encode("cp1251")))

    assert parsed.text == "Основания"


def test_plain_text_gives_its_first_line_as_title():
    content = "СП 20.13330.2016 «Нагрузки»\n\nТекст свода правил.".encode("cp1251")

    parsed = parse_document(linked("sp-20.txt", content))

    assert parsed.kind == dc.TEXT
    assert parsed.title == "СП 20.13330.2016 «Нагрузки»"
    assert (parsed.chars, parsed.pages) == (len(parsed.text), 0)


def test_an_office_file_is_refused():
    with pytest.raises(UnparsableDocumentError, match="unsupported"):
        parse_document(linked("sp.docx", b"PK\x03\x04\x14\x00\x06\x00\x08\x00"))


@pytest.mark.parametrize(
    "query, expression",
    [
        ("Снеговые нагрузки", '"снеговые"* OR "нагрузки"*'),
        ('NEAR("a" b) OR c*', '"near"* OR "a"* OR "b"* OR "or"* OR "c"*'),
        ("СП 20.13330", '"сп"* OR "20"* OR "13330"*'),
    ],
)
def test_a_query_becomes_its_quoted_words(query, expression):
    assert match_expression(query) == expression


def test_a_query_without_words_is_refused():
    with pytest.raises(SearchQueryError):
        match_expression(" -- ** ")
