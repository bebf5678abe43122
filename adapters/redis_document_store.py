"""Parsed documents in Redis, shared by every worker and the API.

Keys (``<prefix>`` is ``Settings.prefix``):

- ``<prefix>:parsed:<sha256>``: hash of the document's metadata: ``code``, ``link``,
  ``kind``, ``title``, ``size``, ``pages``, ``language``, ``chars``.
- ``<prefix>:parsed:<sha256>:text``: string, the document's text.
- ``<prefix>:parsed:current``: hash, norm code to the checksum of its current
  document.
- ``<prefix>:index:current``: string, the location of the newest built search index.

A document's keys are written once, by a Lua script, so the same checksum always
gives the same keys and a second writer changes nothing. Redis errors pass through
unchanged: the worker retries on connection trouble, the API answers 503.
"""

from __future__ import annotations

import logging

import redis

from domain.documents import ParsedDocument, ParsedDocumentStore

logger = logging.getLogger(__name__)

# Write a parsed document unless it is there already.
# KEYS[1]: the metadata hash; KEYS[2]: the text string.
# ARGV[1]: the text; ARGV[2..]: metadata field and value pairs.
# Returns 1 when written, 0 when the metadata hash existed (nothing is touched).
# The text goes first so that whoever sees the metadata also finds the text.
PUT_ONCE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
"""

_NUMBERS = ("size", "pages", "chars")


class RedisDocumentStore(ParsedDocumentStore):
    """The parsed document store on Redis; see the module for the keys."""

    def __init__(self, client: redis.Redis, prefix: str):
        self._redis = client
        self._prefix = prefix
        self._put_once = client.register_script(PUT_ONCE)

    def key(self, checksum: str) -> str:
        return f"{self._prefix}:parsed:{checksum}"

    @property
    def current_key(self) -> str:
        return f"{self._prefix}:parsed:current"

    def has(self, checksum: str) -> bool:
        return bool(self._redis.exists(self.key(checksum)))

    def put(self, document: ParsedDocument) -> bool:
        key = self.key(document.checksum)
        pairs = [item for pair in _fields(document).items() for item in pair]
        written = self._put_once(
            keys=[key, key + ":text"], args=[document.text, *pairs]
        )
        logger.debug("parsed document %s stored: %s", document.checksum, bool(written))
        return bool(written)

    def get(self, checksum: str) -> ParsedDocument | None:
        key = self.key(checksum)
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(key)
            pipe.get(key + ":text")
            fields, text = pipe.execute()
        if not fields or text is None:
            return None
        numbers = {name: int(fields.get(name) or 0) for name in _NUMBERS}
        return ParsedDocument(
            checksum=checksum,
            code=fields.get("code", ""),
            link=fields.get("link", ""),
            kind=fields.get("kind", ""),
            title=fields.get("title", ""),
            size=numbers["size"],
            pages=numbers["pages"],
            language=fields.get("language", ""),
            text=text,
        )

    def make_current(self, code: str, checksum: str) -> None:
        self._redis.hset(self.current_key, code, checksum)

    def current(self) -> dict[str, str]:
        return dict(self._redis.hgetall(self.current_key))


class RedisIndexPointer:
    """Where the newest built search index lies, for the API to query."""

    def __init__(self, client: redis.Redis, prefix: str):
        self._redis = client
        self.key = f"{prefix}:index:current"

    def set(self, location: str) -> None:
        self._redis.set(self.key, location)

    def get(self) -> str | None:
        return self._redis.get(self.key)


def _fields(document: ParsedDocument) -> dict[str, str | int]:
    return {
        "code": document.code,
        "link": document.link,
        "kind": document.kind,
        "title": document.title,
        "size": document.size,
        "pages": document.pages,
        "language": document.language,
        "chars": document.chars,
    }
