"""How a replayed graph is compared with the live one.

Both sides are read whole as nodes keyed by label and id (or code) and
relationships keyed by type, ends, kind and version, each with its properties.
The difference is a list of readable lines, empty when the graphs agree.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

Properties = dict[str, Any]


class Graph(Protocol):
    nodes: Mapping[tuple, Properties]
    relationships: Mapping[tuple, Properties]


def diff(live: Graph, replayed: Graph) -> list[str]:
    """What differs between the live graph and the replayed one, one line each:
    ``-`` only live, ``+`` only replayed, ``~`` a property that differs."""
    return [
        *_differences("node", live.nodes, replayed.nodes),
        *_differences("relationship", live.relationships, replayed.relationships),
    ]


def _differences(
    kind: str, live: Mapping[tuple, Properties], replayed: Mapping[tuple, Properties]
) -> Iterator[str]:
    for key in sorted(live.keys() | replayed.keys()):
        name = f"{kind} {_name(key)}"
        if key not in replayed:
            yield f"- {name}: only in the live graph"
        elif key not in live:
            yield f"+ {name}: only in the replay"
        else:
            yield from _property_differences(name, live[key], replayed[key])


def _property_differences(
    name: str, live: Properties, replayed: Properties
) -> Iterator[str]:
    for prop in sorted(live.keys() | replayed.keys()):
        if live.get(prop) != replayed.get(prop):
            yield (
                f"~ {name} .{prop}: live {live.get(prop)!r}, "
                f"replay {replayed.get(prop)!r}"
            )


def _name(key: tuple) -> str:
    if len(key) == 2:
        return f"{key[0]} {key[1]!r}"
    rel_type, start, end, detail = key
    return f"{start!r}-[{rel_type} {detail}]->{end!r}"
