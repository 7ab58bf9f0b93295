"""Trains the role tagger (source / cue / content spans) and writes ``workers/pipeline/data/roles``.

Usage: python -m workers.training.train_roles GOLD.jsonl (--refit | --select) [--epochs N]
[--fraction F] [--cache DIR] [--out DIR]

``--refit`` (``make train``, the shipped tagger) fits on the training and validation parts of
the split (:mod:`workers.training.split`) for exactly ``EPOCHS`` epochs and writes the tagger
with averaged weights; nothing is scored, since everything was chosen before. ``--select``
fits on the training part alone, scores the averaged tagger on validation after every epoch
and keeps the epoch with the best mean span F1 of the three roles, stopping after
``PATIENCE`` epochs without gain or at ``--epochs``: how the epoch count was chosen. The test
part is never read. A fixed seed makes a rerun on the same machine give the same model.
``--fraction`` fits on the first part of the documents (in file order), for learning curves.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from contextlib import AbstractContextManager
from pathlib import Path

import spacy
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import fix_random_seed, minibatch

from workers.pipeline.model import load_nlp
from workers.pipeline.parse import parse_many
from workers.pipeline.encoder import get_encoder
from workers.pipeline.roles import LABELS, MODEL_DIR, TAGGER, TAGGER_PIPES, fresh_tagger
from workers.training.role_examples import example
from workers.training.split import add_mode_arguments, fitting_parts, split

SEED = 0
# Chosen on validation by the 0.10.0 selection run (the tagger reading the tuned encoder's
# vectors): of at most 20 epochs the 10th was best (mean span F1 72.1); the refit trains exactly this many.
EPOCHS = 10
SELECT_MAX_EPOCHS = 20
PATIENCE = 3
BATCH_DOCS = 8
DROPOUT = 0.1


def parsed_docs(docs: list[dict], cache: Path | None = None) -> list[Doc]:
    """``docs`` on the pipeline's own parse, without any role tagger already loaded.

    ``cache`` keeps the parses (a spaCy ``DocBin``) so repeated runs, such as the points of a
    learning curve or the encoder's tuning and then the tagger's training, parse once.
    """
    nlp = load_nlp()
    if cache is not None and cache.exists():
        return list(DocBin().from_disk(cache).get_docs(nlp.vocab))
    roles = [name for name in TAGGER_PIPES if name in nlp.pipe_names]
    with nlp.select_pipes(disable=roles):
        parsed = list(parse_many(nlp, (d["text"] for d in docs)))
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        DocBin(docs=parsed).to_disk(cache)
    return parsed


def parsed_examples(docs: list[dict], cache: Path | None = None) -> list[Example]:
    """Examples on the pipeline's own parse, each doc carrying the encoder's token vectors in
    ``doc.tensor`` as at inference (a ``DocBin`` cache does not keep them: they are recomputed)."""
    parsed = parsed_docs(docs, cache)
    encoder = get_encoder()
    for doc in parsed:
        doc.tensor = encoder.token_vectors(doc)
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


class RoleTrainer:
    """A fresh tagger and its optimizer, trained an epoch at a time.

    Shared by selection and refit, so the refit makes the updates the selection run would
    have made on the same documents from the same seed.
    """

    def __init__(self, examples: list[Example], seed: int = SEED) -> None:
        fix_random_seed(seed)
        self.rng = random.Random(seed)
        self.examples = examples
        trainer = spacy.blank("en", vocab=examples[0].predicted.vocab)
        self.tagger = fresh_tagger(trainer)
        self.tagger.initialize(lambda: examples, nlp=trainer)
        self.optimizer = self.tagger.create_optimizer()
        self.epochs = 0

    def epoch(self) -> dict:
        """One pass over the examples in a new order; its log row (epoch, loss, seconds)."""
        started = time.perf_counter()
        order = list(self.examples)
        self.rng.shuffle(order)
        losses: dict[str, float] = {}
        for batch in minibatch(order, size=BATCH_DOCS):
            self.tagger.update(batch, sgd=self.optimizer, drop=DROPOUT, losses=losses)
        self.epochs += 1
        return {"epoch": self.epochs, "loss": round(float(losses.get(TAGGER, 0.0)), 1),
                "seconds": round(time.perf_counter() - started)}

    def averaged(self) -> AbstractContextManager:
        """The tagger with the optimizer's averaged weights (what is scored and shipped) while open."""
        return self.tagger.model.use_params(self.optimizer.averages)

    def save(self, out: Path) -> None:
        """Write the tagger with averaged weights to ``out``."""
        out.mkdir(parents=True, exist_ok=True)
        with self.averaged():
            self.tagger.to_disk(out, exclude=["vocab"])


def select(train_examples: list[Example], valid_examples: list[Example], out: Path,
           max_epochs: int = SELECT_MAX_EPOCHS, patience: int = PATIENCE) -> list[dict]:
    """Train, writing the tagger to ``out`` at each new best validation epoch; returns the per-epoch log,
    whose ``kept`` marks the epochs written (the last is the tagger left in ``out``)."""
    trainer = RoleTrainer(train_examples)
    best_score, log, stale = -1.0, [], 0
    for _ in range(max_epochs):
        row = trainer.epoch()
        with trainer.averaged():
            scores = span_scores(trainer.tagger, valid_examples)
        kept = scores["mean"] > best_score
        if kept:
            best_score, stale = scores["mean"], 0
            trainer.save(out)
        else:
            stale += 1
        log.append({**row, **{k: round(float(v), 4) for k, v in scores.items()}, "kept": kept})
        print(json.dumps(log[-1]), flush=True)
        if stale >= patience:
            break
    return log


def refit(examples: list[Example], out: Path, epochs: int = EPOCHS) -> None:
    """Train for exactly ``epochs`` epochs and write the final tagger to ``out``."""
    trainer = RoleTrainer(examples)
    for _ in range(epochs):
        print(json.dumps(trainer.epoch()), flush=True)
    trainer.save(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path)
    add_mode_arguments(parser)
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--epochs", type=int, help=f"refit: exactly N (default {EPOCHS}); select: at most N (default {SELECT_MAX_EPOCHS})")
    parser.add_argument("--patience", type=int, default=PATIENCE, help="select: stop after N epochs without gain")
    parser.add_argument("--fraction", type=float, default=1.0, help="share of the documents to fit on")
    parser.add_argument("--cache", type=Path, help="directory for the parsed documents, reused when present")
    args = parser.parse_args(argv)
    parts = split(args.gold)

    def examples(name: str) -> list[Example]:
        return parsed_examples(parts[name], args.cache and args.cache / f"{name}.spacy")

    fitted = [eg for name in fitting_parts(args.refit) for eg in examples(name)]
    fitted = fitted[:max(1, round(len(fitted) * args.fraction))]
    if args.refit:
        epochs = args.epochs or EPOCHS
        refit(fitted, args.out, epochs)
        print(json.dumps({"fitted_docs": len(fitted), "parts": fitting_parts(True), "epochs": epochs}))
        return
    log = select(fitted, examples("validation"), args.out, args.epochs or SELECT_MAX_EPOCHS, args.patience)
    best_epoch = [row for row in log if row["kept"]][-1]  # not max() of the rounded means: a tie would name another epoch
    print(json.dumps({"training_docs": len(fitted), "validation_docs": len(parts["validation"]),
                      "best_epoch": best_epoch["epoch"], "validation": {k: best_epoch[k] for k in (*LABELS, "mean")}}))


if __name__ == "__main__":
    main()
