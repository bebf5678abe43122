"""Parsing linked documents and searching them, through real Redis and Neo4j."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from falcon import testing

from domain import delivery, services
from domain.commands import ParseBatch, TrainRag
from domain.tasks import TaskStatus
from entrypoints.api import create_app
from entrypoints.worker import worker_context
from tests.conftest import TOKEN
from tests.integration.http_server import serve_folder
from tests.sample_documents import DAMAGED_PDF, HTML_PAGE, pdf_bytes

AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
HEADER = "code,title,kind,edition,status,superseded_by,replaces,document\n"
LIBRARY_ROWS = [
    ("СП 20.13330.2016", "Нагрузки и воздействия", "library/loads.pdf"),
    (
        "ГОСТ 27751-2014",
        "Надёжность строительных конструкций",
        "library/reliability.html",
    ),
    ("СП 22.13330.2016", "Основания зданий и сооружений", "library/ground.txt"),
    ("СП 70.13330.2012", "Несущие и ограждающие конструкции", "library/broken.pdf"),
    ("СП 16.13330.2017", "Стальные конструкции", "../outside.txt"),
]


@pytest.fixture
def library(catalogues) -> Path:
    """A catalogue linking a PDF, an HTML page, a text, a damaged PDF and a file
    outside its folder."""
    folder = catalogues / "library"
    folder.mkdir()
    (folder / "loads.pdf").write_bytes(
        pdf_bytes(
            ["Snow loads and wind loads on buildings", "Load combinations"],
            title="Loads and actions",
        )
    )
    (folder / "reliability.html").write_text(HTML_PAGE, encoding="utf-8")
    (folder / "ground.txt").write_text(
        "Основания\n\nРасчёт оснований по деформациям, просадочные грунты.",
        encoding="cp1251",
    )
    (folder / "broken.pdf").write_bytes(DAMAGED_PDF)
    (catalogues.parent / "outside.txt").write_text("not for you", encoding="utf-8")
    catalogue = catalogues / "library.csv"
    rows = "".join(
        f"{code},{title},SP,2016,active,,,{link}\n"
        for code, title, link in LIBRARY_ROWS
    )
    catalogue.write_text(HEADER + rows, encoding="utf-8")
    return catalogue


def run(container, command):
    """Submit ``command`` and deliver it once to a worker of this process."""
    task, _ = services.submit(command, container.event_store, container.task_queue, 60)
    delivery.deliver(worker_context(container, "w1"), task.task_id)
    return services.load(container.event_store, task.task_id)


def parse(container, *sources: str):
    return run(container, ParseBatch(actor="token:test", sources=tuple(sources)))


def train(container):
    return run(container, TrainRag(actor="token:test"))


@pytest.fixture
def client(container):
    return testing.TestClient(create_app(container))


def search(client, query: str, **params):
    return client.simulate_get("/api/v1/search", params={"q": query, **params})


def test_a_batch_parses_pdf_html_and_text_and_lists_what_it_cannot(container, library):
    done = parse(container, str(library))

    assert done.status is TaskStatus.SUCCEEDED
    report = done.report
    assert (report["parsed"], report["skipped"]) == (3, 0)
    failed = {f["code"]: f for f in report["failed"]}
    assert "not a readable PDF" in failed["СП 70.13330.2012"]["reason"]
    assert failed["СП 70.13330.2012"]["document"] == "library/broken.pdf"
    assert "outside the catalogue folder" in failed["СП 16.13330.2017"]["reason"]
    assert report["bytes"] == sum(
        (library.parent / link).stat().st_size for _, _, link in LIBRARY_ROWS[:3]
    )
    assert report["chars"] > 0 and report["elapsed_s"] >= 0


def test_parsed_documents_are_kept_in_redis_by_checksum(container, library):
    parse(container, str(library))
    current = container.redis.hgetall("bldr:parsed:current")
    pdf = current["СП 20.13330.2016"]

    metadata = container.redis.hgetall(f"bldr:parsed:{pdf}")
    text = container.redis.get(f"bldr:parsed:{pdf}:text")

    assert set(current) == {"СП 20.13330.2016", "ГОСТ 27751-2014", "СП 22.13330.2016"}
    assert metadata["kind"] == "pdf" and metadata["pages"] == "1"
    assert metadata["title"] == "Loads and actions"
    assert metadata["language"] == "en"
    assert text.startswith("Snow loads and wind loads on buildings")


def test_a_second_batch_skips_what_was_parsed_and_records_progress(container, library):
    parse(container, str(library))

    again = parse(container, str(library))

    assert (again.report["parsed"], again.report["skipped"]) == (0, 3)
    assert len(again.report["failed"]) == 2
    types = [r.event.type_name for r in container.event_store.history(again.task_id)]
    assert "TaskProgressed" in types


def test_a_catalogue_served_over_http_gives_the_same_documents(container, library):
    with serve_folder(library.parent) as base:
        done = parse(container, f"{base}/library.csv")

    assert done.status is TaskStatus.SUCCEEDED
    assert done.report["parsed"] == 3
    assert len(done.report["failed"]) == 2


def test_the_index_over_parsed_documents_finds_the_expected_norm_first(
    container, library, client
):
    parse(container, str(library))

    built = train(container)

    assert built.status is TaskStatus.SUCCEEDED
    report = built.report
    index = Path(report["index"])
    assert index.parent == container.settings.data_dir.resolve() / "indexes" / (
        built.task_id
    )
    assert index.stat().st_size == report["bytes"] > 0
    assert report["documents"] == 3 and report["terms"] > 10
    assert container.redis.get("bldr:index:current") == str(index)
    snow = search(client, "snow loads").json["hits"]
    assert snow[0]["code"] == "СП 20.13330.2016"
    assert snow[0]["title"] == "Loads and actions"
    assert "Snow loads" in snow[0]["snippet"] and snow[0]["score"] > 0
    reliability = search(client, "надёжность сооружений").json["hits"]
    assert reliability[0]["code"] == "ГОСТ 27751-2014"


def test_the_demo_catalogue_documents_can_be_searched_end_to_end(container, client):
    parsed = parse(container)
    train(container)

    ground = search(client, "просадочных грунтов", limit=2).json
    flats = search(client, "хранение колясок").json

    assert parsed.report["parsed"] == 4 and parsed.report["failed"] == []
    assert ground["hits"][0]["code"] == "СП 22.13330.2016"
    assert len(ground["hits"]) <= 2
    assert flats["hits"][0]["code"] == "СП 54.13330.2022"


def test_a_newer_index_replaces_the_current_one(container, library, client):
    parse(container)
    first = train(container)
    parse(container, str(library))

    second = train(container)

    assert second.report["documents"] > first.report["documents"]
    assert search(client, "snow").json["hits"][0]["code"] == "СП 20.13330.2016"


def test_without_parsed_documents_the_index_task_fails_and_search_says_so(
    container, client
):
    built = train(container)
    response = search(client, "нагрузки")

    assert built.status is TaskStatus.FAILED
    assert "parse a batch first" in built.error["message"]
    assert response.status_code == 404
    assert response.json["title"] == "No search index"


@pytest.mark.parametrize(
    "params, title",
    [
        ({}, "Empty query"),
        ({"q": "   "}, "Empty query"),
        ({"q": "?!"}, "Empty query"),
        ({"q": "нагрузки " * 30}, "Query too long"),
        ({"q": "нагрузки", "limit": "0"}, None),
        ({"q": "нагрузки", "limit": "many"}, None),
    ],
)
def test_a_bad_search_is_400(container, client, params, title):
    container.redis.set("bldr:index:current", "/nowhere/index.sqlite3")

    response = client.simulate_get("/api/v1/search", params=params)

    assert response.status_code == 400
    assert title is None or response.json["title"] == title


def test_an_index_missing_on_this_host_is_503(container, client):
    container.redis.set("bldr:index:current", "/nowhere/index.sqlite3")

    response = search(client, "нагрузки")

    assert response.status_code == 503
    assert "missing" in response.json["description"]


@pytest.mark.parametrize(
    "path, task_type",
    [
        ("/api/v1/commands/parse-batch", "parse_batch"),
        ("/api/v1/commands/train-rag", "train_rag"),
    ],
)
def test_the_document_commands_are_accepted_with_an_idempotency_key(
    client, container, path, task_type
):
    headers = {**AUTH, "Idempotency-Key": "docs-1"}

    first = client.simulate_post(path, body='{"priority": "low"}', headers=headers)
    again = client.simulate_post(path, body='{"priority": "low"}', headers=headers)

    assert first.status_code == 202 and again.json["created"] is False
    assert again.json["task_id"] == first.json["task_id"]
    task = client.simulate_get(first.json["url"]).json
    assert (task["type"], task["priority"]) == (task_type, "low")


def test_a_parse_batch_records_its_checked_sources(client, library):
    body = json.dumps({"sources": [str(library)]})

    accepted = client.simulate_post(
        "/api/v1/commands/parse-batch", body=body, headers=AUTH
    )

    task = client.simulate_get(accepted.json["url"]).json
    assert task["arguments"] == {"sources": [str(library.resolve())]}


@pytest.mark.parametrize(
    "path, body, status, words",
    [
        (
            "/api/v1/commands/parse-batch",
            '{"sources": ["/etc/passwd"]}',
            400,
            "outside",
        ),
        (
            "/api/v1/commands/parse-batch",
            '{"sources": "a.csv"}',
            400,
            "list of strings",
        ),
        ("/api/v1/commands/parse-batch", '{"colour": 1}', 422, "colour"),
        ("/api/v1/commands/train-rag", '{"sources": []}', 422, "sources"),
        ("/api/v1/commands/train-rag", '{"priority": "now"}', 400, "priority"),
        ("/api/v1/commands/train-rag", "{oops", 400, "not valid JSON"),
    ],
)
def test_bad_document_commands_get_a_4xx_naming_the_problem(
    client, container, path, body, status, words
):
    response = client.simulate_post(path, body=body, headers=AUTH)

    assert response.status_code == status
    assert words in response.json["description"]
    assert container.redis.xlen(container.event_store.stream_key) == 0


@pytest.mark.parametrize(
    "path", ["/api/v1/commands/parse-batch", "/api/v1/commands/train-rag"]
)
def test_document_commands_need_a_token(client, path):
    response = client.simulate_post(path)

    assert response.status_code == 401


def test_the_openapi_document_describes_the_document_routes(client):
    paths = client.simulate_get("/openapi.json").json["paths"]

    assert {
        "/api/v1/commands/parse-batch",
        "/api/v1/commands/train-rag",
        "/api/v1/search",
    } <= set(paths)
    for path in ("/api/v1/commands/parse-batch", "/api/v1/commands/train-rag"):
        assert {"202", "400", "401", "413", "415", "422"} <= set(
            paths[path]["post"]["responses"]
        )
    assert {"200", "400", "404"} <= set(paths["/api/v1/search"]["get"]["responses"])
