"""Trains the role tagger (source / cue / content spans) and writes ``workers/pipeline/data/roles``.

Usage: python -m workers.training.train_roles GOLD.jsonl [--fraction F] [--out DIR]

Fits on the training part of the split (:mod:`workers.training.split`); after every
epoch the tagger (with averaged weights) is scored on the validation part, and the epoch
with the best mean span F1 of the three roles is kept; training stops after ``PATIENCE``
epochs without improvement or at ``MAX_EPOCHS``. The test part is not read. A fixed seed
makes a rerun on the same machine give the same model. ``--fraction`` trains on the first
part of the training documents (in file order), for learning curves.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import spacy
from spacy.tokens import DocBin
from spacy.training import Example
from spacy.util import fix_random_seed, minibatch

from workers.pipeline.model import load_nlp
from workers.pipeline.parse import parse_many
from workers.pipeline.roles import HIDE, LABELS, MODEL_DIR, REVEAL, TAGGER, fresh_tagger
from workers.training.role_examples import example
from workers.training.split import split

SEED = 0
MAX_EPOCHS = 20
PATIENCE = 3
BATCH_DOCS = 8
DROPOUT = 0.1


def parsed_examples(docs: list[dict], cache: Path | None = None) -> list[Example]:
    """Examples on the pipeline's own parse (without any role tagger already loaded).

    ``cache`` keeps the parses (a spaCy ``DocBin``) so repeated runs, such as the points of
    a learning curve, parse once.
    """
    nlp = load_nlp()
    if cache is not None and cache.exists():
        parsed = list(DocBin().from_disk(cache).get_docs(nlp.vocab))
    else:
        roles = [name for name in (HIDE, TAGGER, REVEAL) if name in nlp.pipe_names]
        with nlp.select_pipes(disable=roles):
            parsed = list(parse_many(nlp, (d["text"] for d in docs)))
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            DocBin(docs=parsed).to_disk(cache)
    return [example(doc, gold) for gold, doc in zip(docs, parsed, strict=True)]


def span_scores(tagger, examples: list[Example]) -> dict[str, float]:
    """Exact-span F1 per role on ``examples`` and their mean."""
    docs = []
    for eg in examples:
        doc = eg.predicted.copy()
        doc.set_ents([], default="missing")
        docs.append(doc)
    tp = {label: 0 for label in LABELS}
    n_pred = dict(tp)
    n_gold = dict(tp)
    for doc, eg in zip(tagger.pipe(docs), examples):
        pred = {(e.start, e.end, e.label_) for e in doc.ents}
        gold = {(e.start, e.end, e.label_) for e in eg.reference.ents}
        for label in LABELS:
            p = {s for s in pred if s[2] == label}
            g = {s for s in gold if s[2] == label}
            tp[label] += len(p & g)
            n_pred[label] += len(p)
            n_gold[label] += len(g)
    scores = {label: 2 * tp[label] / max(1, n_pred[label] + n_gold[label]) for label in LABELS}
    scores["mean"] = sum(scores.values()) / len(LABELS)
    return scores


def train(train_examples: list[Example], valid_examples: list[Example], out: Path, seed: int = SEED,
          max_epochs: int = MAX_EPOCHS, patience: int = PATIENCE) -> list[dict]:
    """Train, writing the tagger to ``out`` at each new best validation epoch; returns the per-epoch log."""
    fix_random_seed(seed)
    rng = random.Random(seed)
    trainer = spacy.blank("en", vocab=train_examples[0].predicted.vocab)
    tagger = fresh_tagger(trainer)
    tagger.initialize(lambda: train_examples, nlp=trainer)
    optimizer = tagger.create_optimizer()
    best_score, log, stale = -1.0, [], 0
    for epoch in range(1, max_epochs + 1):
        started = time.perf_counter()
        order = list(train_examples)
        rng.shuffle(order)
        losses: dict[str, float] = {}
        for batch in minibatch(order, size=BATCH_DOCS):
            tagger.update(batch, sgd=optimizer, drop=DROPOUT, losses=losses)
        with tagger.model.use_params(optimizer.averages):
            scores = span_scores(tagger, valid_examples)
            if scores["mean"] > best_score:
                best_score, stale = scores["mean"], 0
                out.mkdir(parents=True, exist_ok=True)
                tagger.to_disk(out, exclude=["vocab"])
            else:
                stale += 1
        log.append({"epoch": epoch, "loss": round(float(losses.get(TAGGER, 0.0)), 1), "seconds": round(time.perf_counter() - started),
                    **{k: round(float(v), 4) for k, v in scores.items()}})
        print(json.dumps(log[-1]), flush=True)
        if stale >= patience:
            break
    return log


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path)
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--fraction", type=float, default=1.0, help="share of the training documents to use")
    parser.add_argument("--cache", type=Path, help="directory for the parsed documents, reused when present")
    parser.add_argument("--max-epochs", type=int, default=MAX_EPOCHS)
    parser.add_argument("--patience", type=int, default=PATIENCE)
    args = parser.parse_args(argv)
    parts = split(args.gold)
    training = parts["training"]
    train_examples = parsed_examples(training, args.cache and args.cache / "training.spacy")
    train_examples = train_examples[:max(1, round(len(training) * args.fraction))]
    valid_examples = parsed_examples(parts["validation"], args.cache and args.cache / "validation.spacy")
    log = train(train_examples, valid_examples, args.out, max_epochs=args.max_epochs, patience=args.patience)
    best_epoch = max(log, key=lambda row: row["mean"])
    print(json.dumps({"training_docs": len(train_examples), "validation_docs": len(parts["validation"]),
                      "best_epoch": best_epoch["epoch"], "validation": {k: best_epoch[k] for k in (*LABELS, "mean")}}))


if __name__ == "__main__":
    main()
