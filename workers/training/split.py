"""The train / held-out split of an annotated corpus, fixed by a hash of each document id.

A hash (not a random draw) keeps the split identical on every machine and stable when
documents are added; every fifth bucket is held out of training.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from workers.jsonl import read_jsonl

HELDOUT_BUCKETS = 5


def is_heldout(doc_id: str) -> bool:
    return int(hashlib.sha1(doc_id.encode()).hexdigest(), 16) % HELDOUT_BUCKETS == 0


def split(path: Path) -> tuple[list[dict], list[dict]]:
    """(training documents, held-out documents) of a JSONL gold file."""
    train: list[dict] = []
    heldout: list[dict] = []
    for doc in read_jsonl(path):
        (heldout if is_heldout(doc["id"]) else train).append(doc)
    return train, heldout
