"""Commands: what someone asks the system to do, named in the imperative."""

from __future__ import annotations

from dataclasses import dataclass, field

PRIORITIES = ("high", "normal", "low")


@dataclass(frozen=True, kw_only=True)
class Command:
    """Who asks, and the key that makes asking twice the same as asking once."""

    actor: str
    idempotency_key: str = ""
    priority: str = "normal"
    correlation_id: str = ""

    task_type = ""

    def arguments(self) -> dict:
        """What the task runs with, as recorded in its submission."""
        return {}


@dataclass(frozen=True, kw_only=True)
class UpdateNorms(Command):
    """Sync the norms registry from catalogues; no sources means the default ones."""

    sources: tuple[str, ...] = field(default_factory=tuple)

    task_type = "update_norms"

    def arguments(self) -> dict[str, list[str]]:
        return {"sources": list(self.sources)}


@dataclass(frozen=True, kw_only=True)
class ParseBatch(Command):
    """Parse the documents that catalogues link to into stored text; no sources
    means the default ones."""

    sources: tuple[str, ...] = field(default_factory=tuple)

    task_type = "parse_batch"

    def arguments(self) -> dict[str, list[str]]:
        return {"sources": list(self.sources)}


@dataclass(frozen=True, kw_only=True)
class TrainRag(Command):
    """Build a new search index over the parsed documents and make it current."""

    task_type = "train_rag"

    def arguments(self) -> dict[str, list[str]]:
        return {}
