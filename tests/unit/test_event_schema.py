"""The published event schema covers every event type, as the code writes it."""

from __future__ import annotations

import dataclasses
import json
import typing

import jsonschema
import pytest

from adapters import event_codec
from domain import events as ev
from domain.ports import RecordedEvent
from entrypoints import event_schema
from entrypoints.event_schema import event_document

SAMPLES = {str: "x", int: 2, float: 1.5, bool: True}


def sample(cls: type[ev.Event]) -> ev.Event:
    """An event of ``cls`` with a value of the right type in every field."""
    hints = typing.get_type_hints(cls)
    common = {f.name for f in dataclasses.fields(ev.Event)}
    values = {
        f.name: _value(hints[f.name])
        for f in dataclasses.fields(cls)
        if f.name not in common
    }
    return cls(
        task_id="t1", version=3, actor="worker:w1", correlation_id="c1", **values
    )


def _value(hint):
    origin = typing.get_origin(hint)
    if origin is dict:
        return {"key": [1, "two"]}
    if origin in (tuple, list):
        return ("a", "b")
    return SAMPLES[hint]


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(event_schema.document())


def test_the_committed_schema_is_the_one_the_event_classes_generate():
    committed = event_schema.SCHEMA_FILE.read_text(encoding="utf-8")

    assert committed == event_schema.rendered(), (
        "entrypoints/events.schema.json is stale: run "
        "'python -m entrypoints.event_schema --write'"
    )


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(event_schema.document())


@pytest.mark.parametrize("name", sorted(ev.EVENT_TYPES))
def test_every_event_type_as_written_and_read_back_matches_the_schema(name):
    event = sample(ev.EVENT_TYPES[name])
    fields = dict(zip(event_codec.FIELD_ORDER, event_codec.encode(event)))

    document = event_document(RecordedEvent("1-0", event_codec.decode("1-0", fields)))

    validator().validate(document)
    assert document["schema"] == int(fields["schema"])


@pytest.mark.parametrize("name", sorted(ev.EVENT_TYPES))
def test_an_event_missing_one_of_its_facts_does_not_match(name):
    document = event_document(RecordedEvent("1-0", sample(ev.EVENT_TYPES[name])))
    if not document["data"]:
        pytest.skip(f"{name} has no facts of its own")
    document["data"].pop(sorted(document["data"])[0])

    assert not validator().is_valid(document)


def test_an_event_of_an_unknown_type_does_not_match():
    document = event_document(RecordedEvent("1-0", sample(ev.TaskStarted)))
    document["type"] = "TaskTeleported"

    assert not validator().is_valid(document)


def test_a_version_1_submission_is_read_as_version_2_with_no_retry():
    facts = {
        "task_type": "update_norms",
        "arguments": {},
        "priority": "high",
        "idempotency_key": "",
    }
    fields = dict(
        zip(
            event_codec.FIELD_ORDER,
            [
                "e1",
                "t1",
                "TaskSubmitted",
                "1",
                "2025-06-01T10:00:00+00:00",
                "1",
                "token:ops",
                "t1",
                json.dumps(facts),
            ],
        )
    )

    event = event_codec.decode("1-0", fields)
    document = event_document(RecordedEvent("1-0", event))

    assert event.retry_of == ""
    assert event.priority == "high"
    assert document["schema"] == 2
    validator().validate(document)


def test_an_entry_from_a_newer_schema_is_undecodable():
    fields = dict(
        zip(event_codec.FIELD_ORDER, event_codec.encode(sample(ev.TaskStarted)))
    )
    fields["schema"] = "9"

    with pytest.raises(event_codec.UndecodableEventError, match="newer"):
        event_codec.decode("1-0", fields)
