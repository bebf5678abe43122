"""The OpenAPI document served at ``/openapi.json``."""

from __future__ import annotations

from typing import Any

from domain.commands import PRIORITIES
from entrypoints.views import STATUSES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _command_post(summary: str, body: str, bad_request: str) -> dict[str, Any]:
    """A command route: bearer token, optional body, Idempotency-Key, 202."""
    return {
        "post": {
            "summary": summary,
            "security": [{"bearer": []}],
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "schema": {"type": "string", "maxLength": 200},
                }
            ],
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": _ref(body)}},
            },
            "responses": {
                "202": _json(_ref("Accepted"), "Recorded in the stream and queued."),
                "400": _error(bad_request),
                "401": _error("Missing or wrong bearer token."),
                "413": _error("The body is over the size limit."),
                "415": _error("The body is not application/json."),
                "422": _error("The body has unknown fields."),
                "503": _error("Redis did not answer; nothing was recorded."),
            },
        }
    }


PRIORITY = {"type": "string", "enum": list(PRIORITIES), "default": "high"}
SOURCES = {
    "type": "array",
    "maxItems": 100,
    "items": {"type": "string"},
    "description": "Catalogue files or folders under the catalogue roots, or "
    "http(s) URLs; the configured defaults when omitted.",
}


TASK_ID = {
    "name": "task_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}
READ_ERRORS = {
    "404": _error("No task with that id."),
    "503": _error("Redis or Neo4j did not answer."),
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["title"],
        "properties": {"title": {"type": "string"}, "description": {"type": "string"}},
    },
    "NormsUpdate": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "sources": {
                "type": "array",
                "maxItems": 100,
                "items": {"type": "string"},
                "description": "Catalogue files or folders under the catalogue "
                "roots, or http(s) URLs; the configured defaults when omitted.",
            },
            "priority": {"type": "string", "enum": list(PRIORITIES), "default": "high"},
        },
    },
    "ParseBatch": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"sources": SOURCES, "priority": PRIORITY},
    },
    "TrainRag": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"priority": PRIORITY},
    },
    "ParseBatchReport": {
        "type": "object",
        "description": "The report of a finished parse_batch task.",
        "properties": {
            "parsed": {"type": "integer"},
            "skipped": {
                "type": "integer",
                "description": "documents parsed before (same SHA-256)",
            },
            "failed": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "document": {"type": "string"},
                        "reason": {"type": "string"},
                    },
                },
            },
            "bytes": {"type": "integer"},
            "chars": {"type": "integer"},
            "elapsed_s": {"type": "number"},
        },
    },
    "TrainRagReport": {
        "type": "object",
        "description": "The report of a finished train_rag task.",
        "properties": {
            "documents": {"type": "integer"},
            "missing": {
                "type": "integer",
                "description": "current documents gone from the store",
            },
            "terms": {"type": ["integer", "null"]},
            "bytes": {"type": "integer"},
            "index": {"type": "string", "description": "the index file"},
            "elapsed_s": {"type": "number"},
        },
    },
    "SearchResults": {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "limit": {"type": "integer"},
            "hits": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "title": {"type": "string"},
                        "snippet": {"type": "string"},
                        "score": {"type": "number", "description": "higher is better"},
                    },
                },
            },
        },
    },
    "Accepted": {
        "type": "object",
        "required": ["task_id", "url", "status", "created"],
        "properties": {
            "task_id": {"type": "string"},
            "url": {"type": "string"},
            "status": {"type": "string", "enum": list(STATUSES)},
            "created": {
                "type": "boolean",
                "description": "false when an Idempotency-Key repeated",
            },
        },
    },
    "Task": {
        "type": "object",
        "properties": {
            "task_id": {"type": "string"},
            "type": {"type": "string"},
            "status": {"type": "string", "enum": list(STATUSES)},
            "version": {"type": "integer"},
            "priority": {"type": "string"},
            "arguments": {"type": "object"},
            "submitted_by": {"type": "string"},
            "correlation_id": {"type": "string"},
            "attempts": {"type": "integer"},
            "progress": {
                "type": "object",
                "properties": {
                    "percent": {"type": "number"},
                    "done": {"type": "integer"},
                    "total": {"type": "integer"},
                },
            },
            "submitted_at": {"type": "string", "format": "date-time"},
            "started_at": {"type": ["string", "null"], "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
            "report": {"type": ["object", "null"]},
            "error": {"type": ["object", "null"]},
            "retry_of": {"type": ["string", "null"]},
            "retry_at": {"type": ["string", "null"]},
            "cancel_requested": {"type": "boolean"},
            "cancel_reason": {"type": ["string", "null"]},
            "waiting": {
                "type": ["string", "null"],
                "description": "why the task is not running, if it waits",
            },
        },
    },
    "Event": {
        "type": "object",
        "properties": {
            "position": {"type": "string", "description": "stream entry id"},
            "event_id": {"type": "string"},
            "type": {"type": "string"},
            "version": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "actor": {"type": "string"},
            "correlation_id": {"type": "string"},
            "data": {"type": "object"},
        },
    },
    "Throughput": {
        "type": "object",
        "properties": {
            "minutes": {"type": "integer"},
            "per_minute": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "minute": {
                            "type": "string",
                            "format": "date-time",
                            "description": "start of the minute, UTC",
                        },
                        "finished": {"type": "integer"},
                        "by_status": {
                            "type": "object",
                            "additionalProperties": {"type": "integer"},
                        },
                    },
                },
            },
        },
    },
    "Freshness": {
        "type": "object",
        "description": "How current a read from the Neo4j views is.",
        "properties": {
            "position": {
                "type": "string",
                "description": "the newest stream position the views hold",
            },
            "head": {"type": "string", "description": "the newest stream position"},
            "lag_events": {
                "type": "integer",
                "description": "entries not yet in " "the views, counted up to 10000",
            },
            "lag_s": {
                "type": "number",
                "description": "seconds the oldest of them "
                "has waited; 0 when current",
            },
        },
    },
    "EventsPage": {
        "type": "object",
        "properties": {
            "events": {
                "type": "array",
                "items": {
                    "$ref": "/events.schema.json",
                    "description": "an event, or {position, undecodable, fields} for an "
                    "entry that cannot be read as one",
                },
            },
            "next_cursor": {
                "type": ["string", "null"],
                "description": "pass as cursor for the next page; null "
                "at the end of the stream",
            },
            "limit": {"type": "integer"},
        },
    },
    "TaskChanges": {
        "type": "object",
        "properties": {
            "task_id": {"type": "string"},
            "correlation_id": {"type": "string"},
            "status": {"type": ["string", "null"]},
            "changes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "title": {"type": ["string", "null"]},
                        "kind": {
                            "type": "string",
                            "enum": ["registered", "revised", "superseded"],
                        },
                        "version": {"type": "integer"},
                        "at": {"type": "string"},
                    },
                },
            },
            "freshness": _ref("Freshness"),
        },
    },
    "Norm": {
        "type": "object",
        "properties": {
            "freshness": _ref("Freshness"),
            "code": {"type": "string"},
            "title": {"type": "string"},
            "kind": {"type": "string"},
            "edition": {"type": "integer"},
            "status": {"type": "string", "enum": ["active", "superseded"]},
            "superseded_by": {"type": "string"},
            "replaces": {"type": "string"},
            "checksum": {"type": "string"},
            "document_size": {"type": "integer"},
            "supersedes": {
                "type": "array",
                "items": {"type": "string"},
                "description": "older editions in the registry that this "
                "norm superseded; `replaces` is the catalogue's own column",
            },
            "runs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "task_id": {"type": "string"},
                        "kind": {"type": "string"},
                        "at": {"type": "string"},
                        "task_status": {"type": "string"},
                    },
                },
            },
        },
    },
    "QueuePage": {
        "type": "object",
        "properties": {
            "freshness": _ref("Freshness"),
            "as_of": {
                "type": "string",
                "format": "date-time",
                "description": "only with as_of: then tasks are Task objects "
                "folded from the stream and there is no freshness",
            },
            "tasks": {"type": "array", "items": {"type": "object"}},
            "total": {"type": "integer"},
            "offset": {"type": "integer"},
            "limit": {"type": "integer"},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/commands/norms-update": {
        "post": {
            "summary": "Submit a norms update",
            "security": [{"bearer": []}],
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "schema": {"type": "string", "maxLength": 200},
                }
            ],
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": _ref("NormsUpdate")}},
            },
            "responses": {
                "202": _json(_ref("Accepted"), "Recorded in the stream and queued."),
                "400": _error("Malformed JSON, a bad field value or a refused source."),
                "401": _error("Missing or wrong bearer token."),
                "413": _error("The body is over the size limit."),
                "415": _error("The body is not application/json."),
                "422": _error("The body has unknown fields."),
                "503": _error("Redis did not answer; nothing was recorded."),
            },
        }
    },
    "/api/v1/commands/parse-batch": _command_post(
        "Parse the documents that catalogues link to (text, HTML, PDF) into the "
        "shared document store",
        "ParseBatch",
        "Malformed JSON, a bad field value or a refused source.",
    ),
    "/api/v1/commands/train-rag": _command_post(
        "Build a new search index over the parsed documents and make it current",
        "TrainRag",
        "Malformed JSON or a bad field value.",
    ),
    "/api/v1/tasks/{task_id}": {
        "get": {
            "summary": "A task's state, folded from its events",
            "parameters": [TASK_ID],
            "responses": {"200": _json(_ref("Task"), "The task."), **READ_ERRORS},
        }
    },
    "/api/v1/tasks/{task_id}/events": {
        "get": {
            "summary": "A task's history, oldest first",
            "parameters": [TASK_ID],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "task_id": {"type": "string"},
                            "events": {"type": "array", "items": _ref("Event")},
                        },
                    },
                    "The history.",
                ),
                **READ_ERRORS,
            },
        }
    },
    "/api/v1/tasks/{task_id}/cancel": {
        "post": {
            "summary": "Cancel a task: at once if queued, at its next safe point if "
            "running",
            "security": [{"bearer": []}],
            "parameters": [TASK_ID],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "reason": {"type": "string", "maxLength": 500}
                            },
                        }
                    }
                },
            },
            "responses": {
                "202": _json(
                    _ref("Task"),
                    "Cancel recorded; `cancel_requested` is true "
                    "and `status` says whether it already took effect.",
                ),
                "400": _error("A bad body."),
                "401": _error("Missing or wrong bearer token."),
                "404": _error("No task with that id."),
                "409": _error(
                    "The task has finished; the description names its state."
                ),
                "503": _error("Redis did not answer."),
            },
        }
    },
    "/api/v1/tasks/{task_id}/retry": {
        "post": {
            "summary": "Submit a new task doing what a failed, dead-lettered or "
            "cancelled task was asked to do, linked to it (RETRY_OF)",
            "security": [{"bearer": []}],
            "parameters": [TASK_ID],
            "responses": {
                "202": _json(
                    {
                        "type": "object",
                        "properties": {
                            "task_id": {"type": "string"},
                            "url": {"type": "string"},
                            "status": {"type": "string"},
                            "retry_of": {"type": "string"},
                        },
                    },
                    "The new task.",
                ),
                "401": _error("Missing or wrong bearer token."),
                "404": _error("No task with that id."),
                "409": _error("The task succeeded or has not finished."),
                "503": _error("Redis did not answer."),
            },
        }
    },
    "/api/v1/dead-letters": {
        "get": {
            "summary": "Tasks that used up their attempts, newest first",
            "parameters": [
                {
                    "name": "offset",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0, "default": 0},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 500,
                        "default": 50,
                    },
                },
            ],
            "responses": {
                "200": _json(_ref("QueuePage"), "One page of tasks."),
                "400": _error("A bad offset or limit."),
                "503": _error("Neo4j did not answer."),
            },
        }
    },
    "/api/v1/tasks/{task_id}/changes": {
        "get": {
            "summary": "What one task run changed in the norms registry, in order",
            "parameters": [TASK_ID],
            "responses": {
                "200": _json(_ref("TaskChanges"), "The changes."),
                "404": _error("The norms graph knows no such task."),
                "503": _error("Redis or Neo4j did not answer."),
            },
        }
    },
    "/api/v1/events": {
        "get": {
            "summary": "The whole event stream, oldest first, a page at a time",
            "parameters": [
                {
                    "name": "cursor",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "next_cursor of the previous page",
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 1000,
                        "default": 100,
                    },
                },
                {
                    "name": "since",
                    "in": "query",
                    "schema": {"type": "string", "format": "date-time"},
                    "description": "Recorded at or after this time (by the stream's "
                    "clock; UTC without a zone).",
                },
                {
                    "name": "until",
                    "in": "query",
                    "schema": {"type": "string", "format": "date-time"},
                    "description": "Recorded at or before this time.",
                },
                {"name": "task_id", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "type",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "An event type, as in /events.schema.json.",
                },
                {
                    "name": "actor",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "Who caused it, e.g. token:operator or worker:...",
                },
                {
                    "name": "correlation_id",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "The command that started the chain.",
                },
            ],
            "responses": {
                "200": _json(
                    _ref("EventsPage"),
                    "One page of events; fewer "
                    "than limit when a filter skipped many.",
                ),
                "400": _error("A bad cursor, limit, time or type."),
                "503": _error("Redis did not answer."),
            },
        }
    },
    "/api/v1/queue": {
        "get": {
            "summary": "The queue as the Neo4j projection holds it, newest first",
            "parameters": [
                {
                    "name": "status",
                    "in": "query",
                    "schema": {"type": "string", "enum": list(STATUSES)},
                },
                {
                    "name": "offset",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0, "default": 0},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 500,
                        "default": 50,
                    },
                },
                {
                    "name": "since",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "A stream position: instead of a page, the tasks "
                    "changed after it, oldest change first (catching up after a gap).",
                },
                {
                    "name": "as_of",
                    "in": "query",
                    "schema": {"type": "string", "format": "date-time"},
                    "description": "An ISO 8601 time (UTC without a zone): the queue as "
                    "it stood then, folded from the stream instead of read from Neo4j.",
                },
            ],
            "responses": {
                "200": _json(_ref("QueuePage"), "One page of tasks."),
                "400": _error("A bad status, offset, limit, since or as_of."),
                "503": _error("Neo4j did not answer."),
            },
        }
    },
    "/api/v1/queue/throughput": {
        "get": {
            "summary": "Tasks finished per minute, oldest minute first",
            "parameters": [
                {
                    "name": "minutes",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 1440,
                        "default": 60,
                    },
                    "description": "How many minutes back, the current one included.",
                },
            ],
            "responses": {
                "200": _json(_ref("Throughput"), "One entry per minute."),
                "400": _error("A bad number of minutes."),
                "503": _error("Neo4j did not answer."),
            },
        }
    },
    "/api/v1/norms": {
        "get": {
            "summary": "Norms in the registry graph, by code",
            "parameters": [
                {
                    "name": "status",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["active", "superseded"]},
                },
                {
                    "name": "kind",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["SP", "GOST"]},
                },
                {
                    "name": "offset",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0, "default": 0},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 1000,
                        "default": 100,
                    },
                },
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "norms": {"type": "array", "items": _ref("Norm")},
                            "total": {"type": "integer"},
                            "freshness": _ref("Freshness"),
                        },
                    },
                    "One page of norms.",
                ),
                "400": _error("A bad status, kind, offset or limit."),
                "503": _error("Neo4j did not answer."),
            },
        }
    },
    "/api/v1/norms/{code}": {
        "get": {
            "summary": "One norm, what superseded it and the runs that changed it",
            "parameters": [
                {
                    "name": "code",
                    "in": "path",
                    "required": True,
                    "description": "The norm code, URL-encoded",
                    "schema": {"type": "string"},
                }
            ],
            "responses": {
                "200": _json(_ref("Norm"), "The norm."),
                "404": _error("No norm with that code."),
                "503": _error("Neo4j did not answer."),
            },
        }
    },
    "/api/v1/search": {
        "get": {
            "summary": "Search the newest built index: the best matching norms first",
            "parameters": [
                {
                    "name": "q",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 50,
                        "default": 10,
                    },
                },
            ],
            "responses": {
                "200": _json(_ref("SearchResults"), "The hits, best first."),
                "400": _error("An empty or overlong query, or a bad limit."),
                "404": _error("No index was built yet."),
                "503": _error(
                    "Redis did not answer, or the index file "
                    "cannot be read on this host."
                ),
            },
        }
    },
    "/healthz": {
        "get": {
            "summary": "Whether Redis and Neo4j answer",
            "responses": {
                "200": _json({"type": "object"}, "Both answer."),
                "503": _json({"type": "object"}, "One of them does not."),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
        }
    },
    "/events.schema.json": {
        "get": {
            "summary": "The JSON Schema of events, one definition per event type",
            "responses": {"200": _json({"type": "object"}, "The event schema.")},
        }
    },
    "/": {
        "get": {
            "summary": "The live dashboard page",
            "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}},
        }
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Bldr Queue", "version": "1"},
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
}
