"""The search route of the API: free-text queries against the newest built index."""

from __future__ import annotations

import logging

import falcon

from adapters import sqlite_search_index
from adapters.redis_document_store import RedisIndexPointer
from adapters.sqlite_search_index import SearchIndexError, SearchQueryError
from entrypoints.bootstrap import Container

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 200
MAX_LIMIT = 50


class SearchResource:
    """``GET /api/v1/search?q=&limit=``: the best matching norms' documents."""

    def __init__(self, container: Container):
        self._c = container
        self._pointer = RedisIndexPointer(container.redis, container.settings.prefix)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = _query(req)
        limit = req.get_param_as_int(
            "limit", min_value=1, max_value=MAX_LIMIT, default=10
        )
        location = self._current_index()

        hits = _search(location, query, limit)

        resp.media = {
            "query": query,
            "limit": limit,
            "hits": [
                {
                    "code": h.code,
                    "title": h.title,
                    "snippet": h.snippet,
                    "score": h.score,
                }
                for h in hits
            ],
        }

    def _current_index(self) -> str:
        location = self._pointer.get()
        if location is None:
            raise falcon.HTTPNotFound(
                title="No search index",
                description="No search index was built yet: submit a parse batch, "
                "then a train RAG command (POST /api/v1/commands/train-rag).",
            )
        return location


def _query(req: falcon.Request) -> str:
    query = (req.get_param("q") or "").strip()
    if not query:
        raise falcon.HTTPBadRequest(
            title="Empty query", description="Give the words to search for in 'q'."
        )
    if len(query) > MAX_QUERY_CHARS:
        raise falcon.HTTPBadRequest(
            title="Query too long",
            description=f"'q' is over {MAX_QUERY_CHARS} characters.",
        )
    return query


def _search(location: str, query: str, limit: int):
    try:
        return sqlite_search_index.search(location, query, limit)
    except SearchQueryError as error:
        raise falcon.HTTPBadRequest(
            title="Empty query", description=str(error)
        ) from None
    except SearchIndexError as error:
        logger.error("search index unusable: %s", error)
        raise falcon.HTTPServiceUnavailable(
            title="Search index unavailable", description=str(error)
        ) from None
