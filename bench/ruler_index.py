"""The whole extraction with the attribute ruler's indexed matcher against spaCy's own, side by side.

    python bench/ruler_index.py ../shared/eval/polnear.dev.jsonl --limit 60

One process, one core, one thread. The extractor runs over the seed article alone (as one
job extracts it) and over the first ``--limit`` documents, switching the attribute ruler's
matcher between spaCy's ``Matcher`` and :class:`workers.pipeline.attribute_index.IndexedMatcher`
every round, so that both see the same machine. Prints each measure's median and the ratio;
the last line is JSON. The claims are the same either way (checked here on every document).
"""

from __future__ import annotations

import single_core  # noqa: F401  (first: sets the thread counts before numpy loads)

import argparse
import json
import statistics
import time
from pathlib import Path

from single_core import count_words, pin_to_one_core
from speed import read_texts

SEED = next((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="JSONL in the common attribution format")
    parser.add_argument("--limit", type=int, default=60, help="use the first N documents")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; each times both matchers")
    parser.add_argument("--seed-runs", type=int, default=10, help="seed article extractions per matcher per round")
    args = parser.parse_args()

    cpu = pin_to_one_core()
    texts = read_texts(args.data, args.limit)
    seed = SEED.read_text(encoding="utf-8")
    words = sum(count_words(t) for t in texts)

    from workers.pipeline import get_extractor
    from workers.pipeline.attribute_index import RULER, IndexedMatcher
    from workers.predict import attribution

    extractor = get_extractor()
    ruler = extractor.nlp.get_pipe(RULER)
    if not isinstance(ruler.matcher, IndexedMatcher):
        raise SystemExit("the pipeline's attribute ruler has no indexed matcher")
    matchers = {"spacy": ruler.matcher.original, "indexed": ruler.matcher}

    def claims(docs: list[str]) -> list[list[dict]]:
        return [[attribution(c) for c in e.claims] for e in extractor.extract_many(docs)]

    seed_ms: dict[str, list[float]] = {name: [] for name in matchers}
    docs_s: dict[str, list[float]] = {name: [] for name in matchers}
    outputs: dict[str, list[list]] = {}
    for name, matcher in matchers.items():  # warm-up, and the claims to compare
        ruler.matcher = matcher
        outputs[name] = claims([seed, *texts])
    for _ in range(args.rounds):
        for name, matcher in matchers.items():
            ruler.matcher = matcher
            for _ in range(args.seed_runs):
                started = time.perf_counter()
                claims([seed])
                seed_ms[name].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            claims(texts)
            docs_s[name].append(time.perf_counter() - started)
    ruler.matcher = matchers["indexed"]

    same = outputs["spacy"] == outputs["indexed"]
    seed_median = {name: statistics.median(v) for name, v in seed_ms.items()}
    rate = {name: words / statistics.median(v) for name, v in docs_s.items()}
    print(f"setting       one process, CPU {cpu}, one thread; {args.rounds} rounds, matchers alternating")
    print(f"documents     the seed article ({count_words(seed)} words) and {len(texts)} from {args.data}, "
          f"{words:,} words")
    for name in matchers:
        print(f"{name:8s}      seed article median {seed_median[name]:6.1f} ms   "
              f"documents median {rate[name]:7,.0f} words/s")
    print(f"indexed/spacy seed article time {seed_median['indexed'] / seed_median['spacy']:.3f}, "
          f"throughput {rate['indexed'] / rate['spacy']:.3f}; same claims: {same}")
    print(json.dumps({
        "documents": len(texts), "words": words, "rounds": args.rounds, "same_claims": same,
        "seed_ms": {name: round(v, 1) for name, v in seed_median.items()},
        "words_per_s": {name: round(v) for name, v in rate.items()},
        "seed_time_ratio": round(seed_median["indexed"] / seed_median["spacy"], 3),
        "throughput_ratio": round(rate["indexed"] / rate["spacy"], 3),
    }))


if __name__ == "__main__":
    main()
