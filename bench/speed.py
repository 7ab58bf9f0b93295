"""Words per second of the bare spaCy parse and of the full extraction, on the same documents.

    python bench/speed.py ../shared/eval/polnear.dev.jsonl --limit 100

One process, one core, one thread. After a warm-up on the first documents, the bare
``nlp.pipe`` of the pipeline's spaCy model and ``get_extractor().extract_many`` each run
over all the documents, alternately, ``--repeat`` times; the best run of each counts (the
least disturbed by other work on the machine). Prints both rates, their ratio and the
resident memory after loading, after the warm-up and after the runs; the last line is JSON.
"""

from __future__ import annotations

import single_core  # noqa: F401  (first: sets the thread counts before numpy loads)

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from single_core import PeakRss, count_words, peak_rss_mb, pin_to_one_core, rss_mb

WARM_UP_DOCS = 5


def read_texts(path: Path, limit: int | None) -> list[str]:
    """The ``text`` of each line of a JSONL file in the common format."""
    texts: list[str] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                texts.append(json.loads(line)["text"])
            if limit is not None and len(texts) >= limit:
                break
    return texts


def timed(run: Callable[[], object], peak: PeakRss) -> float:
    """Seconds ``run`` takes; ``peak`` records the memory high-water mark meanwhile."""
    with PeakRss() as sampler:
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
    peak.peak_mb = max(peak.peak_mb, sampler.peak_mb)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="JSONL in the common attribution format")
    parser.add_argument("--limit", type=int, default=None, help="use the first N documents")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measure; the best counts")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed)")
    parser.add_argument("--batch-size", type=int, default=None, help="bare nlp.pipe batch size (default: spaCy's)")
    args = parser.parse_args()

    cpu = pin_to_one_core(args.cpu)
    texts = read_texts(args.data, args.limit)
    words = sum(count_words(t) for t in texts)
    rss_start = rss_mb()

    from workers.pipeline import get_extractor
    from workers.pipeline.model import LINE_BREAKS, load_nlp
    from workers.pipeline.roles import TAGGER_PIPES

    nlp = load_nlp()
    extractor = get_extractor()
    rss_loaded = rss_mb()

    batch_size = args.batch_size or nlp.batch_size
    own = [name for name in (LINE_BREAKS, *TAGGER_PIPES) if name in nlp.pipe_names]

    def bare() -> None:
        """The stock spaCy pipeline: Claimwire's own components (line breaks, the encoder and the role tagger) are charged to the extraction."""
        with nlp.select_pipes(disable=own):
            for _ in nlp.pipe(texts, batch_size=batch_size):
                pass

    def full() -> None:
        for _ in extractor.extract_many(texts):
            pass

    with nlp.select_pipes(disable=own):
        for _ in nlp.pipe(texts[:WARM_UP_DOCS], batch_size=batch_size):
            pass
    for _ in extractor.extract_many(texts[:WARM_UP_DOCS]):
        pass
    rss_warm = rss_mb()

    bare_runs: list[float] = []
    full_runs: list[float] = []
    bare_peak, full_peak = PeakRss(), PeakRss()
    for _ in range(args.repeat):
        bare_runs.append(timed(bare, bare_peak))
        full_runs.append(timed(full, full_peak))
    rss_end = rss_mb()

    bare_rate = words / min(bare_runs)
    full_rate = words / min(full_runs)
    meta = nlp.meta
    print(f"documents        {len(texts)} from {args.data}, {words:,} words (whitespace-separated)")
    stock = [name for name in nlp.pipe_names if name not in own]
    print(f"model            {meta['lang']}_{meta['name']} {meta['version']}: {', '.join(stock)}")
    print(f"setting          one process, CPU {cpu}, one thread; best of {args.repeat} runs after a warm-up")
    print(f"bare nlp.pipe    {bare_rate:8,.0f} words/s   runs (s): {' '.join(f'{t:.2f}' for t in bare_runs)}"
          f"   (batch size {batch_size})")
    print(f"full extraction  {full_rate:8,.0f} words/s   runs (s): {' '.join(f'{t:.2f}' for t in full_runs)}")
    print(f"ratio            {full_rate / bare_rate:.3f} (full / bare)")
    print(f"RSS (MiB)        start {rss_start:.0f}, model loaded {rss_loaded:.0f}, after warm-up {rss_warm:.0f}, "
          f"after runs {rss_end:.0f}")
    print(f"peak RSS (MiB)   during bare parse {bare_peak.peak_mb:.0f}, during full extraction {full_peak.peak_mb:.0f}, "
          f"process {peak_rss_mb():.0f}")
    print(json.dumps({
        "documents": len(texts), "words": words, "bare_words_per_s": round(bare_rate),
        "full_words_per_s": round(full_rate), "ratio": round(full_rate / bare_rate, 3),
        "rss_mib": {"start": round(rss_start), "loaded": round(rss_loaded), "warm": round(rss_warm),
                    "end": round(rss_end), "peak_bare": round(bare_peak.peak_mb),
                    "peak_full": round(full_peak.peak_mb), "peak": round(peak_rss_mb())},
    }))


if __name__ == "__main__":
    main()
