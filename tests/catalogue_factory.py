"""Generated norms catalogues of any size, for long-running tasks and benchmarks."""

from __future__ import annotations

import csv
from pathlib import Path

HEADER = [
    "code",
    "title",
    "kind",
    "edition",
    "status",
    "superseded_by",
    "replaces",
    "document",
]


def write_catalogue(path: Path, rows: int, edition: int = 2020) -> Path:
    """A valid catalogue of ``rows`` distinct active norms."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow(
                [
                    f"СП {n + 1000}.13330.{edition}",
                    f"Свод правил номер {n}",
                    "SP",
                    edition,
                    "active",
                    "",
                    "",
                    "",
                ]
            )
    return path
