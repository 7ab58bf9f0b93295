"""JSON Lines files of the common attribution format: gold, held-out and predicted documents."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """One document per non-blank line."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def write_jsonl(path: Path, documents: Iterable[dict[str, Any]]) -> int:
    """Write one document per line (UTF-8, not escaped); returns how many were written."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for doc in documents:
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
            count += 1
    return count
