"""How far a score on a few dozen documents can be trusted: a bootstrap over documents.

A test part of 84 documents gives one e2e F1; another 84 documents of the same corpus would
give another. Resampling the scored documents with replacement, and scoring each resample
with the corpus scorer's own counting, shows how wide that spread is: a percentile interval
per headline figure. Documents, not attributions, are resampled, since the attributions of
one article are not independent (one speaker, one style of quoting).

``python -m workers.training.confidence GOLD PRED --scorer PATH/score.py`` prints the
intervals, the last line as JSON. With ``--against OTHER`` (another extractor's predictions
for the same documents) it gives the interval of the difference PRED − OTHER instead, both
scored on the same resamples: a paired comparison, much narrower than the two intervals side
by side, since most of the spread is which documents happen to be drawn. The scorer is read
from the path given (it is evaluation code that ships with the data, not with Claimwire).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from workers.jsonl import read_jsonl

SAMPLES = 2000
SEED = 0
LEVEL = 0.95
# Headline figures: (name, cell type, the key of the scorer's ``summarize``).
FIGURES = (
    ("e2e F1", "ALL", "e2e_f1"),
    ("overlap F1", "ALL", "content_overlap_f1"),
    ("exact F1", "ALL", "content_exact_f1"),
    ("speaker", "ALL", "speaker_acc"),
    ("cue F1", "ALL", "cue_f1"),
    ("indirect e2e F1", "indirect", "e2e_f1"),
)

DocCells = dict[str, Any]  # one document's counts per type, as the scorer's score_doc gives them


def load_scorer(path: Path) -> ModuleType:
    """The corpus scorer, imported from its file."""
    spec = importlib.util.spec_from_file_location("corpus_scorer", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import a scorer from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def document_cells(scorer: ModuleType, gold: Sequence[dict], predicted: Sequence[dict]) -> list[DocCells]:
    """Each gold document's counts; a document with no prediction counts as predicting nothing."""
    by_id = {doc["id"]: doc for doc in predicted}
    return [scorer.score_doc(doc, by_id.get(doc["id"]), lambda message: None) for doc in gold]


def figures(scorer: ModuleType, docs: Sequence[DocCells]) -> dict[str, float]:
    """The headline figures (percent) of a set of documents, counted as the scorer counts."""
    totals: dict[str, Any] = {}
    for cells in docs:
        for kind, counts in cells.items():
            totals.setdefault(kind, scorer.Counts()).add(counts)
    summaries = {kind: scorer.summarize(counts) for kind, counts in totals.items()}
    return {name: 100 * summaries[kind][key] if kind in summaries else 0.0 for name, kind, key in FIGURES}


def intervals(
    score: Callable[[Sequence[DocCells]], dict[str, float]],
    docs: Sequence[DocCells],
    samples: int = SAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> dict[str, tuple[float, float, float]]:
    """Per figure: (the score of ``docs``, the interval's low end, its high end)."""
    rng = random.Random(seed)
    drawn: dict[str, list[float]] = {name: [] for name, _, _ in FIGURES}
    for _ in range(samples):
        for name, value in score([rng.choice(docs) for _ in docs]).items():
            drawn[name].append(value)
    point = score(docs)
    tail = (1 - level) / 2
    result = {}
    for name, values in drawn.items():
        values.sort()
        low = values[int(tail * (len(values) - 1))]
        high = values[int(round((1 - tail) * (len(values) - 1)))]
        result[name] = (point[name], low, high)
    return result


def paired(
    scorer: ModuleType, docs: Sequence[tuple[DocCells, DocCells]]
) -> Callable[[Sequence[tuple[DocCells, DocCells]]], dict[str, float]]:
    """A score of document pairs: each figure of the first extractor minus the second's."""

    def difference(sample: Sequence[tuple[DocCells, DocCells]]) -> dict[str, float]:
        first = figures(scorer, [one for one, _ in sample])
        second = figures(scorer, [other for _, other in sample])
        return {name: first[name] - second[name] for name in first}

    return difference


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("gold", type=Path)
    parser.add_argument("pred", type=Path)
    parser.add_argument("--scorer", type=Path, required=True, help="the corpus scorer, score.py")
    parser.add_argument("--against", type=Path, help="another extractor's predictions: the interval of PRED - AGAINST")
    parser.add_argument("--samples", type=int, default=SAMPLES)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    scorer = load_scorer(args.scorer)
    gold = list(read_jsonl(args.gold))
    docs = document_cells(scorer, gold, list(read_jsonl(args.pred)))
    if args.against is None:
        found = intervals(lambda sample: figures(scorer, sample), docs, args.samples, args.seed)
    else:
        pairs = list(zip(docs, document_cells(scorer, gold, list(read_jsonl(args.against))), strict=True))
        found = intervals(paired(scorer, pairs), pairs, args.samples, args.seed)
    what = "the difference PRED - AGAINST" if args.against else "the figures"
    print(f"{len(docs)} documents, {args.samples} resamples, {LEVEL:.0%} percentile intervals of {what}")
    for name, (point, low, high) in found.items():
        print(f"  {name:16s} {point:+6.1f}  [{low:+6.1f}, {high:+6.1f}]" if args.against else
              f"  {name:16s} {point:5.1f}  [{low:5.1f}, {high:5.1f}]")
    print(json.dumps({"documents": len(docs), "samples": args.samples, "level": LEVEL, "paired": args.against is not None,
                      "figures": {name: [round(v, 2) for v in values] for name, values in found.items()}}))


if __name__ == "__main__":
    main()
