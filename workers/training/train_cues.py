"""Learns the cue lexicon: per verb lemma and frame, how often it is an annotated cue.

Usage: python -m workers.training.train_cues GOLD.jsonl (--refit | --select) [--out PATH]

Reads gold attributions in the common JSONL format, parses the documents it fits on,
counts for every verb whether it lies inside a gold cue span, picks the probability
threshold by leave-one-out on those same observations (so no held-out part is needed),
and writes ``workers/pipeline/data/cue_frames.json``. ``--refit`` (``make train``, the
shipped lexicon) fits on the training and validation parts of the split
(:mod:`workers.training.split`); ``--select`` on the training part alone, the lexicon to
choose things on validation with. The test part is never read.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from workers.pipeline.contents import QuoteIndex
from workers.pipeline.cues import hand_prior
from workers.pipeline.lexicon import LEXICON_PATH, CueLexicon
from workers.pipeline.model import load_nlp
from workers.pipeline.parse import parse_many
from workers.pipeline.quotes import find_quotes
from workers.pipeline.rules import frame_key, source_of
from workers.training.split import add_mode_arguments, fitting_parts, split

Counts = dict[str, dict[str, list[int]]]
BETA = 1.5


def count_frames(docs: list[dict]) -> tuple[Counts, list[tuple[str, str, bool]]]:
    """Counts per (lemma, frame) and the labelled observations they were made from."""
    counts: Counts = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    observations: list[tuple[str, str, bool]] = []
    for gold, doc in zip(docs, parse_many(load_nlp(), (d["text"] for d in docs))):
        quotes = QuoteIndex(gold["text"], find_quotes(gold["text"]))
        cue_chars = set()
        for att in gold["attributions"]:
            if att.get("cue"):
                cue_chars.update(range(att["cue"]["start"], att["cue"]["end"]))
        for tok in doc:
            if tok.pos_ != "VERB":
                continue
            source, _ = source_of(tok, quotes)
            frame, comp = frame_key(tok, source is not None)
            if comp is None:
                continue
            label = tok.idx in cue_chars
            lemma = tok.lemma_.lower()
            counts[lemma][frame][0] += label
            counts[lemma][frame][1] += 1
            observations.append((lemma, frame, label))
    return counts, observations


def _loo_probability(counts: Counts, lemma: str, frame: str, label: bool) -> float:
    cue, total = counts[lemma][frame]
    held = CueLexicon({lemma: {frame: [cue - label, total - 1]}}, threshold=1.0)
    return held.probability(lemma, frame)


def best_threshold(counts: Counts, observations: list[tuple[str, str, bool]]) -> float:
    """The threshold with the best leave-one-out F-beta of cue decisions on the fitted observations.

    Each observation is judged by counts without itself, so lemmas seen once do not look
    perfectly reliable and the threshold is not fitted to them. Recall weighs more
    (beta 1.5): a missed cue loses its whole claim, while a wrong one is often dropped
    later by the outermost-attribution filter. Two-fold cross-validation of end-to-end
    F1 on the training split agreed (best between 0.2 and 0.3).
    """
    loo = [(_loo_probability(counts, lemma, frame, label), label) for lemma, frame, label in observations]
    best, best_f1 = 0.5, -1.0
    for step in range(5, 80):
        threshold = step / 100
        tp = fp = fn = 0
        for probability, label in loo:
            guess = probability >= threshold
            tp += guess and label
            fp += guess and not label
            fn += label and not guess
        b2 = BETA * BETA
        f1 = (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp) if tp else 0.0
        if f1 > best_f1:
            best, best_f1 = step / 100, f1
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path)
    add_mode_arguments(parser)
    parser.add_argument("--out", type=Path, default=LEXICON_PATH)
    args = parser.parse_args(argv)
    parts = split(args.gold)
    fitted = [doc for name in fitting_parts(args.refit) for doc in parts[name]]
    counts, observations = count_frames(fitted)
    threshold = best_threshold(counts, observations)
    # Frames never seen as cues matter only where they overrule the hand lexicon's prior.
    kept = {lemma: {f: c for f, c in sorted(frames.items()) if c[0] > 0 or hand_prior(lemma, f)}
            for lemma, frames in sorted(counts.items())}
    kept = {lemma: frames for lemma, frames in kept.items() if frames}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    lines = ",\n".join(f"{json.dumps(lemma)}: {json.dumps(frames)}" for lemma, frames in kept.items())
    args.out.write_text(f'{{"threshold": {threshold},\n"counts": {{\n{lines}\n}}}}\n', encoding="utf-8")
    print(f"fitted on {' + '.join(fitting_parts(args.refit))}: {len(fitted)} docs, verb observations {len(observations)}, "
          f"lemmas kept {len(kept)}, threshold {threshold}")


if __name__ == "__main__":
    main()
