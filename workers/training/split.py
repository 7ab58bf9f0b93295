"""The test / validation / training split of an annotated corpus, fixed by hashes of document ids.

A hash (not a random draw) keeps the split identical on every machine and stable when
documents are added. Three parts:

- **test**: a fifth of the documents (by a salted hash). Never used for training, model
  selection or rule tuning; scored once, at the end of a change.
- **validation**: a sixth of the rest (by a second salted hash). Model selection (training
  epochs, the decision thresholds) and comparisons while developing. Once everything is
  chosen, the shipped learned parts are refitted on training and validation together
  (``--refit`` of the trainers): more annotated documents pay, and nothing is chosen on
  validation any more.
- **training**: everything else; what the learned parts are fitted on while things are
  chosen on validation (``--select``).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from workers.jsonl import read_jsonl

TEST_BUCKETS = 5
VALIDATION_BUCKETS = 6
PARTS = ("training", "validation", "test")


def _bucket(salt: str, doc_id: str, buckets: int) -> int:
    return int(hashlib.sha1(f"{salt}:{doc_id}".encode()).hexdigest(), 16) % buckets


def part_of(doc_id: str) -> str:
    """"training", "validation" or "test" for a document id."""
    if _bucket("test", doc_id, TEST_BUCKETS) == 0:
        return "test"
    if _bucket("validation", doc_id, VALIDATION_BUCKETS) == 0:
        return "validation"
    return "training"


def fitting_parts(refit: bool) -> tuple[str, ...]:
    """The parts the learned parts are fitted on: training and validation for the shipped
    refit, training alone while things are still chosen on validation; never test."""
    return ("training", "validation") if refit else ("training",)


def add_mode_arguments(parser: argparse.ArgumentParser) -> None:
    """``--refit`` or ``--select``, one required: a run never fits on the wrong parts by default."""
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--refit", action="store_true",
                      help="fit on training + validation: the shipped model, nothing chosen")
    mode.add_argument("--select", action="store_true",
                      help="fit on training only, to choose things on validation")


def split(path: Path) -> dict[str, list[dict]]:
    """The documents of a JSONL gold file by part, in file order."""
    parts: dict[str, list[dict]] = {name: [] for name in PARTS}
    for doc in read_jsonl(path):
        parts[part_of(doc["id"])].append(doc)
    return parts


def main() -> None:
    """Write the parts of a gold file as PREFIX.{training,validation,test}.jsonl (for scoring)."""
    from workers.jsonl import write_jsonl

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("gold", type=Path)
    parser.add_argument("prefix", type=Path)
    args = parser.parse_args()
    args.prefix.parent.mkdir(parents=True, exist_ok=True)
    for name, docs in split(args.gold).items():
        write_jsonl(Path(f"{args.prefix}.{name}.jsonl"), docs)
        print(f"{name}: {len(docs)} documents, {sum(len(d['attributions']) for d in docs)} attributions")


if __name__ == "__main__":
    main()
