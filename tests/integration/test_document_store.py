"""The parsed document store's contract, run against every implementation."""

from __future__ import annotations

import hashlib

import pytest

from adapters.memory_document_store import InMemoryDocumentStore
from adapters.redis_document_store import RedisDocumentStore
from domain.documents import ParsedDocument


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return InMemoryDocumentStore()
    container = request.getfixturevalue("container")
    return RedisDocumentStore(container.redis, container.settings.prefix)


def document(text: str, code: str = "СП 20.13330.2016", **changes) -> ParsedDocument:
    fields = dict(
        checksum=hashlib.sha256(text.encode()).hexdigest(),
        code=code,
        link="docs/sp-20.txt",
        kind="text",
        title="Нагрузки и воздействия",
        size=len(text.encode()),
        pages=0,
        language="ru",
        text=text,
    )
    return ParsedDocument(**{**fields, **changes})


def test_a_stored_document_comes_back_whole(store):
    stored = document("Свод правил о нагрузках", kind="pdf", pages=3)

    store.put(stored)

    assert store.has(stored.checksum)
    assert store.get(stored.checksum) == stored
    assert store.get(stored.checksum).chars == len(stored.text)


def test_the_same_checksum_is_stored_once_and_kept_as_first_written(store):
    first = document("один текст", code="СП 1")

    assert store.put(first) is True
    assert store.put(document("один текст", code="СП 2")) is False
    assert store.get(first.checksum).code == "СП 1"


def test_an_unknown_checksum_is_absent(store):
    assert not store.has("0" * 64)
    assert store.get("0" * 64) is None


def test_each_norm_has_one_current_document(store):
    store.make_current("СП 1", "a" * 64)
    store.make_current("СП 2", "b" * 64)
    store.make_current("СП 1", "c" * 64)

    assert store.current() == {"СП 1": "c" * 64, "СП 2": "b" * 64}


def test_an_empty_text_is_a_text(store):
    stored = document("", pages=2, kind="pdf")

    store.put(stored)

    assert store.get(stored.checksum).text == ""
