"""The norms update on the sample catalogues, through real Redis and Neo4j."""

from __future__ import annotations

import shutil

import pytest

from domain import delivery, services
from domain.commands import UpdateNorms
from domain.tasks import TaskStatus
from entrypoints.worker import worker_context
from entrypoints.projector import Projector
from tests.integration.http_server import serve_folder

NORM_EVENTS = {"NormRegistered", "NormRevised", "NormSuperseded"}


def update(container, *sources: str):
    """Submit and run one norms update, then project everything recorded so far."""
    command = UpdateNorms(actor="token:test", sources=tuple(sources))
    task, _ = services.submit(command, container.event_store, container.task_queue, 60)
    delivery.deliver(worker_context(container, "w1"), task.task_id)
    done = services.load(container.event_store, task.task_id)
    project(container)
    return done


def project(container) -> None:
    projector = Projector(container)
    projector.prepare()
    while projector.step(">", None):
        pass


def counts(task) -> tuple[int, int, int]:
    return task.report["added"], task.report["changed"], task.report["unchanged"]


def test_the_2024_then_2026_catalogues_give_the_documented_counts(
    container, catalogues
):
    first = update(container, str(catalogues / "catalogue-2024.csv"))
    second = update(container, str(catalogues / "catalogue-2026.csv"))
    third = update(container, str(catalogues / "catalogue-2026.csv"))

    assert first.status is TaskStatus.SUCCEEDED
    assert counts(first) == (33, 0, 0)
    assert counts(second) == (14, 11, 22)
    assert second.report["changed_by_kind"] == {"revised": 0, "superseded": 11}
    assert counts(third) == (0, 0, 47)
    third_types = {
        r.event.type_name for r in container.event_store.history(third.task_id)
    }
    assert not third_types & NORM_EVENTS


def test_each_replaced_norm_links_to_its_replacement_in_the_graph(
    container, catalogues
):
    update(container, str(catalogues / "catalogue-2024.csv"))
    second = update(container, str(catalogues / "catalogue-2026.csv"))

    records, _, _ = container.neo4j_driver.execute_query(
        "MATCH (old:Norm)-[:SUPERSEDED_BY]->(new:Norm) "
        "RETURN old.code AS old, old.status AS status, new.code AS new, "
        "new.title IS NOT NULL AS known"
    )
    links, _, _ = container.neo4j_driver.execute_query(
        "MATCH (:Task {id: $id})-[c:CHANGED]->(n:Norm) RETURN c.kind AS kind, "
        "count(*) AS n",
        id=second.task_id,
    )

    assert len(records) == 11
    assert all(r["status"] == "superseded" and r["known"] for r in records)
    assert {r["kind"]: r["n"] for r in links} == {"registered": 14, "superseded": 11}


def test_a_norm_shows_the_runs_that_changed_it(container, catalogues):
    first = update(container, str(catalogues / "catalogue-2024.csv"))
    second = update(container, str(catalogues / "catalogue-2026.csv"))

    norm = container.norms_graph.norm("СП 24.13330.2011")

    assert norm["status"] == "superseded"
    assert norm["superseded_by"] == "СП 24.13330.2021"
    assert [(r["task_id"], r["kind"]) for r in norm["runs"]] == [
        (first.task_id, "registered"),
        (second.task_id, "superseded"),
    ]


def test_the_spreadsheet_export_is_read_with_its_dirty_rows(container, catalogues):
    done = update(container, str(catalogues / "catalogue-excel-export.csv"))

    assert done.report["added"] == 7
    assert done.report["duplicates"] == 1
    assert [r["line"] for r in done.report["rejected"]] == [8]
    assert "title is missing" in done.report["rejected"][0]["reason"].lower()


def test_a_changed_document_counts_as_a_change_of_its_norm(container, catalogues):
    update(container, str(catalogues / "catalogue-2024.csv"))
    (catalogues / "docs" / "sp-20.txt").write_text("new text", encoding="utf-8")

    again = update(container, str(catalogues / "catalogue-2024.csv"))

    assert again.report["changed_by_kind"]["revised"] == 1
    assert container.event_store.known_norms()["СП 20.13330.2016"].document_size == 8


def test_a_folder_source_reads_every_catalogue_in_it(container, catalogues, tmp_path):
    folder = catalogues / "both"
    folder.mkdir()
    for name in ("catalogue-2024.csv", "catalogue-2026.csv"):
        shutil.copy(catalogues / name, folder / name)
    shutil.copytree(catalogues / "docs", folder / "docs")

    done = update(container, str(folder))

    assert (done.report["added"], done.report["changed"]) == (47, 11)


def test_a_catalogue_served_over_http_gives_the_same_result(container, catalogues):
    with serve_folder(catalogues) as base:
        done = update(container, f"{base}/catalogue-2024.csv")

    assert done.status is TaskStatus.SUCCEEDED
    assert counts(done) == (33, 0, 0)


def deliver_until_finished(container, task_id: str, most: int = 10):
    """Deliver the task again, as Dramatiq would after each scheduled retry."""
    context = worker_context(container, "w1")
    task = services.load(container.event_store, task_id)
    for _ in range(most):
        if task.status.is_terminal:
            break
        delivery.deliver(context, task_id)
        task = services.load(container.event_store, task_id)
    return task


@pytest.mark.parametrize("failure", ["status500", "drop"])
def test_a_source_that_keeps_failing_is_dead_lettered_with_a_readable_reason(
    container, catalogues, failure
):
    with serve_folder(catalogues, failure=failure) as base:
        first = update(container, f"{base}/catalogue-2024.csv")
        done = deliver_until_finished(container, first.task_id)

    assert done.status is TaskStatus.DEAD_LETTERED
    assert done.error["type"] == "CatalogueFetchError"
    assert "catalogue-2024.csv" in done.error["message"]
    history = container.event_store.history(done.task_id)
    assert [r.event.type_name for r in history].count("TaskRetryScheduled") == 2


def test_a_source_that_fails_twice_then_answers_succeeds_after_two_retries(
    container, catalogues
):
    with serve_folder(catalogues, failure="status500", failures=2) as base:
        first = update(container, f"{base}/catalogue-2024.csv")
        done = deliver_until_finished(container, first.task_id)

    retries = [
        r.event
        for r in container.event_store.history(done.task_id)
        if r.event.type_name == "TaskRetryScheduled"
    ]
    assert done.status is TaskStatus.SUCCEEDED
    assert [r.attempt for r in retries] == [1, 2]
    assert retries[0].delay_s < retries[1].delay_s
    assert done.report["added"] == 33


def test_a_link_out_of_the_roots_found_at_run_time_fails_the_task(
    container, catalogues, tmp_path
):
    outside = tmp_path / "outside.csv"
    outside.write_text(
        "code,title,edition,status\nСП 9.9,Тайна,2020,active\n", encoding="utf-8"
    )
    folder = catalogues / "folder"
    folder.mkdir()
    (folder / "a.csv").symlink_to(outside)

    done = update(container, str(folder))

    assert done.status is TaskStatus.FAILED
    assert done.error["type"] == "InvalidSourceError"
    assert "outside the catalogue roots" in done.error["message"]
    assert container.event_store.known_norms() == {}
