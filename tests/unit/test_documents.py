"""The document rules and the parse batch and train RAG jobs, in memory."""

from __future__ import annotations

import codecs
import itertools

import pytest

from adapters.memory_document_store import InMemoryDocumentStore
from adapters.memory_event_store import InMemoryEventStore
from domain import documents as dc
from domain import services
from domain.commands import ParseBatch, TrainRag
from domain.documents import (
    BuiltIndex,
    DocumentFailure,
    DocumentJobError,
    EmptyCorpusError,
    ParsedDocument,
    SearchIndexBuilder,
    SourceDocument,
    UnparsableDocumentError,
)
from domain.parse_batch import parse_batch
from domain.ports import TaskQueue
from domain.task_run import TaskCancelledError, TaskRun
from domain.tasks import Task
from domain.train_rag import train_rag


class ListQueue(TaskQueue):
    def enqueue(self, task: Task, delay_s: float = 0) -> None:
        pass


def started(store, command) -> TaskRun:
    """A running task whose clock ticks a second per look, so that every document
    gets a progress event and a safe point."""
    task, _ = services.submit(command, store, ListQueue(), 60)
    run = TaskRun(store, task, "w1", clock=itertools.count().__next__)
    assert run.start()
    return run


def source(code: str, text: str, link: str = "") -> SourceDocument:
    return SourceDocument(
        code=code,
        title="Title " + code,
        link=link or f"{code}.txt",
        line=2,
        content=text.encode(),
    )


def plain_parse(document: SourceDocument) -> ParsedDocument:
    text = document.content.decode()
    if text.startswith("broken"):
        raise UnparsableDocumentError(document.link, "the text is broken")
    return ParsedDocument(
        checksum=document.checksum,
        code=document.code,
        link=document.link,
        kind=dc.TEXT,
        title=document.title,
        size=len(document.content),
        text=text,
    )


def reading(*catalogues):
    """A reader of catalogues given as lists of what each links to."""

    def read(name: str, on_progress):
        items = catalogues[int(name)]
        for done, item in enumerate(items, start=1):
            if isinstance(item, Exception):
                raise item
            on_progress(done, len(items))
            yield item

    return read


def parse(documents, *catalogues, events=None):
    events = events or InMemoryEventStore()
    run = started(events, ParseBatch(actor="token:ops"))
    names = [str(i) for i in range(len(catalogues))]
    return parse_batch(run, names, reading(*catalogues), plain_parse, documents), run


# The rules


@pytest.mark.parametrize(
    "link, head, kind",
    [
        ("norm.bin", b"%PDF-1.7\n%\xe2\xe3", dc.PDF),
        ("norm.txt", b"\xef\xbb\xbf  <!DOCTYPE html><html>", dc.HTML),
        ("norm", b"<?xml version='1.0'?><html xmlns='x'>", dc.HTML),
        ("norm.HTM", b"just words", dc.HTML),
        ("norm.pdf", b"not a pdf at all", dc.PDF),
        ("norm.txt", "Свод правил".encode(), dc.TEXT),
        ("norm", codecs.BOM_UTF16_LE + "СП".encode("utf-16-le"), dc.TEXT),
    ],
)
def test_a_document_kind_is_told_by_its_content_then_its_name(link, head, kind):
    assert dc.document_kind(link, head) == kind


def test_binary_content_of_another_kind_is_refused():
    with pytest.raises(UnparsableDocumentError, match="unsupported"):
        dc.document_kind("norm.docx", b"PK\x03\x04\x14\x00\x06\x00")


@pytest.mark.parametrize(
    "content",
    [
        "Нагрузки и воздействия".encode("utf-8"),
        codecs.BOM_UTF8 + "Нагрузки и воздействия".encode("utf-8"),
        "Нагрузки и воздействия".encode("cp1251"),
        "Нагрузки и воздействия".encode("utf-16"),
    ],
)
def test_russian_text_is_read_in_any_of_its_usual_encodings(content):
    assert dc.decode_text("sp.txt", content) == "Нагрузки и воздействия"


def test_text_is_tidied_to_single_spaces_and_single_blank_lines():
    text = "  Глава 1\r\n\r\n\r\n\r\nОбщие\t  положения  \rконец "

    assert dc.tidy_text(text) == "Глава 1\n\nОбщие положения\nконец"


def test_a_plain_text_title_is_its_first_non_blank_line_cut_short():
    assert dc.first_line("\n\n  СП 20  «Нагрузки»\nтекст") == "СП 20 «Нагрузки»"
    assert len(dc.first_line("а" * 500)) == dc.TITLE_LENGTH


@pytest.mark.parametrize(
    "text, language",
    [
        ("Свод правил устанавливает нагрузки и воздействия на здания", "ru"),
        ("This code of practice sets out loads and actions on buildings", "en"),
        ("СП 20", ""),
        ("Нормы Norms — Нормы Norms — Нормы Norms", ""),
    ],
)
def test_the_language_is_the_script_most_letters_are_in(text, language):
    assert dc.guess_language(text) == language


# The parse batch


def test_each_linked_document_is_parsed_once_and_skipped_after():
    documents = InMemoryDocumentStore()
    batch = [source("СП 1", "первый"), source("СП 2", "второй")]

    first, _ = parse(documents, batch)
    second, _ = parse(documents, batch)

    assert (first["parsed"], first["skipped"]) == (2, 0)
    assert (second["parsed"], second["skipped"]) == (0, 2)
    assert first["bytes"] == len("первый".encode()) + len("второй".encode())
    assert first["chars"] == len("первый") + len("второй")


def test_a_document_that_cannot_be_parsed_is_listed_and_the_batch_goes_on():
    documents = InMemoryDocumentStore()
    batch = [source("СП 1", "broken bytes"), source("СП 2", "второй")]

    report, _ = parse(documents, batch)

    assert report["parsed"] == 1
    assert report["failed"] == [
        {"code": "СП 1", "document": "СП 1.txt", "reason": "the text is broken"}
    ]
    assert set(documents.current()) == {"СП 2"}


def test_a_link_that_cannot_be_followed_is_listed_as_failed():
    failure = DocumentFailure("СП 3", "../secret.txt", "outside the catalogue folder")

    report, _ = parse(InMemoryDocumentStore(), [failure])

    assert report["failed"] == [
        {
            "code": "СП 3",
            "document": "../secret.txt",
            "reason": "outside the catalogue folder",
        }
    ]


def test_a_norm_s_current_document_is_the_one_it_links_to_last():
    documents = InMemoryDocumentStore()
    old, new = source("СП 1", "редакция 2016"), source("СП 1", "редакция 2024")

    parse(documents, [old])
    parse(documents, [new])

    assert documents.current() == {"СП 1": new.checksum}


def test_an_unreadable_catalogue_stops_the_batch_with_what_it_had_done():
    documents = InMemoryDocumentStore()
    batch = [source("СП 1", "первый"), OSError("the share went away")]

    with pytest.raises(DocumentJobError) as stopped:
        parse(documents, batch)

    assert isinstance(stopped.value.cause, OSError)
    assert stopped.value.report["parsed"] == 1


def test_every_document_reports_progress():
    events = InMemoryEventStore()
    batch = [source(f"СП {n}", f"текст {n}") for n in range(3)]

    _, run = parse(InMemoryDocumentStore(), batch, events=events)

    progress = [
        r.event
        for r in events.history(run.task_id)
        if r.event.type_name == "TaskProgressed"
    ]
    assert [p.done for p in progress] == [1, 2, 3]
    assert progress[-1].percent == 100.0


def test_a_cancelled_batch_stops_before_its_next_document():
    events, documents = InMemoryEventStore(), InMemoryDocumentStore()
    run = started(events, ParseBatch(actor="token:ops"))

    def read(name, on_progress):
        yield source("СП 1", "первый")
        services.cancel(events, run.task_id, "token:ops", "wrong catalogue")
        yield source("СП 2", "второй")

    with pytest.raises(DocumentJobError) as stopped:
        parse_batch(run, ["0"], read, plain_parse, documents)

    assert isinstance(stopped.value.cause, TaskCancelledError)
    assert stopped.value.report["parsed"] == 1
    assert set(documents.current()) == {"СП 1"}


# The search index


class ListIndex(SearchIndexBuilder):
    def __init__(self):
        self.entries: list[tuple[str, str]] = []
        self.state = "building"

    def add(self, code: str, document: ParsedDocument) -> None:
        self.entries.append((code, document.text))

    def finish(self) -> BuiltIndex:
        self.state = "finished"
        return BuiltIndex("/indexes/t1/index", 4096, len(self.entries), 7)

    def discard(self) -> None:
        self.state = "discarded"


def build(documents, index, published):
    run = started(InMemoryEventStore(), TrainRag(actor="token:ops"))
    return train_rag(run, documents, index, published.append)


def test_the_index_holds_each_norm_s_current_document_and_is_published_finished():
    documents, index, published = InMemoryDocumentStore(), ListIndex(), []
    parse(documents, [source("СП 2", "второй"), source("СП 1", "старый")])
    parse(documents, [source("СП 1", "новый")])

    report = build(documents, index, published)

    assert index.entries == [("СП 1", "новый"), ("СП 2", "второй")]
    assert published == ["/indexes/t1/index"]
    assert report["documents"] == 2
    assert (report["terms"], report["bytes"]) == (7, 4096)
    assert report["index"] == "/indexes/t1/index"


def test_without_parsed_documents_no_index_is_built_or_published():
    index, published = ListIndex(), []

    with pytest.raises(DocumentJobError) as stopped:
        build(InMemoryDocumentStore(), index, published)

    assert isinstance(stopped.value.cause, EmptyCorpusError)
    assert index.state == "discarded"
    assert published == []


def test_a_document_gone_from_the_store_is_counted_missing():
    documents = InMemoryDocumentStore()
    parse(documents, [source("СП 1", "первый"), source("СП 2", "второй")])
    documents.forget(documents.current()["СП 1"])

    report = build(documents, ListIndex(), [])

    assert (report["documents"], report["missing"]) == (1, 1)
