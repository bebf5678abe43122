"""An event Neo4j refuses for good is parked; the views go on with the rest."""

from __future__ import annotations

from domain import events as ev
from entrypoints.projector import Projector


def norm_event(task_id: str, code: str) -> ev.NormRegistered:
    return ev.NormRegistered(
        task_id=task_id, code=code, title="Т", kind="SP", edition=2020, status="active"
    )


def test_an_event_neo4j_refuses_is_parked_and_the_rest_are_projected(container):
    store = container.event_store
    store.submit(ev.TaskSubmitted(task_id="t1", task_type="update_norms"), 60)
    store.append(
        "t1",
        [
            ev.TaskStarted(task_id="t1"),
            norm_event("t1", "СП " + "7" * 20_000),
            norm_event("t1", "СП 1.13330.2020"),
            ev.TaskSucceeded(task_id="t1"),
        ],
        1,
    )
    projector = Projector(container)
    projector.prepare()

    projector.step(">", None)

    parked = container.redis.xrange(f"{container.settings.prefix}:parked")
    assert [fields["type"] for _, fields in parked] == ["NormRegistered"]
    assert container.norms_graph.norm("СП 1.13330.2020") is not None
    assert container.queue_graph.task("t1")["status"] == "succeeded"
    pending = container.redis.xpending(store.stream_key, projector.group)
    assert pending["pending"] == 0
