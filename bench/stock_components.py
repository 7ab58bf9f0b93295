"""The whole extraction with the stock model's attribute ruler and lemmatizer as spaCy ships them,
and with Claimwire's changes to them, side by side.

    python bench/stock_components.py ../shared/eval/polnear.dev.jsonl --limit 60

One process, one core, one thread. The extractor runs over the seed article alone (as one job
extracts it) and over the first ``--limit`` documents, in three set-ups taken in turn every
round, so that all see the same machine: spaCy's own (its ``Matcher`` in the attribute ruler,
the lemmatizer's known words as the model ships them, in lists); the ruler's index
(:mod:`workers.pipeline.attribute_index`); and the index with the known words in sets
(:mod:`workers.pipeline.lemma_lookup`, as the service runs). The lemmatizer's memo is put back
to what it held after the warm-up before every timed run, so that it has not seen the texts it
is timed on (a worker has not either). Prints each set-up's medians and its ratios to spaCy's
own; the last line is JSON. The claims are the same in every set-up (checked on every document).
"""

from __future__ import annotations

import single_core  # noqa: F401  (first: sets the thread counts before numpy loads)

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from single_core import count_words, pin_to_one_core
from speed import read_texts

SEED = next((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))
SETUPS = ("spacy", "ruler index", "index + word sets")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="JSONL in the common attribution format")
    parser.add_argument("--limit", type=int, default=60, help="use the first N documents")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; each times every set-up")
    parser.add_argument("--seed-runs", type=int, default=10, help="seed article extractions per set-up per round")
    args = parser.parse_args()

    cpu = pin_to_one_core()
    texts = read_texts(args.data, args.limit)
    seed = SEED.read_text(encoding="utf-8")
    words = sum(count_words(t) for t in texts)

    from workers.pipeline import get_extractor
    from workers.pipeline.attribute_index import RULER, IndexedMatcher
    from workers.pipeline.lemma_lookup import INDEX_TABLE, LEMMATIZER
    from workers.predict import attribution

    extractor = get_extractor()
    ruler, lemmatizer = extractor.nlp.get_pipe(RULER), extractor.nlp.get_pipe(LEMMATIZER)
    table = lemmatizer.lookups.get_table(INDEX_TABLE)
    word_sets = dict(table.items())
    if not isinstance(ruler.matcher, IndexedMatcher) or not all(isinstance(v, frozenset) for v in word_sets.values()):
        raise SystemExit("the pipeline does not have Claimwire's attribute ruler index and lemmatizer word sets")
    indexed = ruler.matcher
    word_lists = {pos: sorted(words) for pos, words in word_sets.items()}

    def use(setup: str) -> None:
        ruler.matcher = indexed.original if setup == "spacy" else indexed
        for pos, known in (word_sets if setup == "index + word sets" else word_lists).items():
            table[pos] = known

    def claims(docs: list[str]) -> list[list[dict]]:
        return [[attribution(c) for c in e.claims] for e in extractor.extract_many(docs)]

    for setup in SETUPS:  # warm-up
        use(setup)
        claims(texts[:5])
    warm_memo = dict(lemmatizer.cache)

    def timed(run: Callable[[], object]) -> float:
        lemmatizer.cache = dict(warm_memo)
        started = time.perf_counter()
        run()
        return time.perf_counter() - started

    outputs = {}
    for setup in SETUPS:
        use(setup)
        lemmatizer.cache = dict(warm_memo)
        outputs[setup] = claims([seed, *texts])
    seed_ms: dict[str, list[float]] = {setup: [] for setup in SETUPS}
    docs_s: dict[str, list[float]] = {setup: [] for setup in SETUPS}
    for _ in range(args.rounds):
        for setup in SETUPS:
            use(setup)
            seed_ms[setup] += [1000 * timed(lambda: claims([seed])) for _ in range(args.seed_runs)]
            docs_s[setup].append(timed(lambda: claims(texts)))
    use(SETUPS[-1])

    same = all(outputs[setup] == outputs["spacy"] for setup in SETUPS)
    seed_median = {setup: statistics.median(v) for setup, v in seed_ms.items()}
    rate = {setup: words / statistics.median(v) for setup, v in docs_s.items()}
    print(f"setting       one process, CPU {cpu}, one thread; {args.rounds} rounds, set-ups in turn")
    print(f"documents     the seed article ({count_words(seed)} words) and {len(texts)} from {args.data}, "
          f"{words:,} words; same claims in every set-up: {same}")
    for setup in SETUPS:
        print(f"{setup:17s} seed article median {seed_median[setup]:6.1f} ms "
              f"({seed_median[setup] / seed_median['spacy']:.3f} of spaCy's own)   documents median "
              f"{rate[setup]:7,.0f} words/s ({rate[setup] / rate['spacy']:.3f} times spaCy's own)")
    print(json.dumps({
        "documents": len(texts), "words": words, "rounds": args.rounds, "same_claims": same,
        "seed_ms": {setup: round(v, 1) for setup, v in seed_median.items()},
        "words_per_s": {setup: round(v) for setup, v in rate.items()},
        "seed_time_ratio": {setup: round(seed_median[setup] / seed_median["spacy"], 3) for setup in SETUPS},
        "throughput_ratio": {setup: round(rate[setup] / rate["spacy"], 3) for setup in SETUPS},
    }))


if __name__ == "__main__":
    main()
