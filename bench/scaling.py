"""Time per document against its length: the extraction should stay linear.

    python bench/scaling.py                      # the seed article, 10 kB to 1 MB
    python bench/scaling.py --text article.txt --sizes 50000,200000

Each document is an article repeated (paragraph-separated) up to the size. One process,
one core, one thread; the extractor is warmed up first. Prints the seconds of the chunked
parse alone and of the full extraction per size, the time per kB, each relative to the
smallest size (1.0 everywhere is linear), and the peak resident memory during the
extraction; the last line is JSON.
"""

from __future__ import annotations

import single_core  # noqa: F401  (first: sets the thread counts before numpy loads)

import argparse
import json
import time
from pathlib import Path

from single_core import PeakRss, count_words, pin_to_one_core, rss_mb

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_f811b88706461c54.txt"
DEFAULT_SIZES = "10000,100000,1000000"


def document(article: str, size: int) -> str:
    """The article repeated, paragraph-separated, cut at the last space before ``size`` characters."""
    text = "\n\n".join([article] * (size // (len(article) + 2) + 1))[:size]
    cut = text.rfind(" ")
    return text[:cut] if cut > size // 2 else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=Path, default=SEED, help="the article to repeat (default: the seed)")
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="document sizes in characters, comma-separated")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed)")
    args = parser.parse_args()

    cpu = pin_to_one_core(args.cpu)
    article = args.text.read_text(encoding="utf-8").strip()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    from workers.pipeline import get_extractor
    from workers.pipeline.parse import parse

    extractor = get_extractor()
    extractor.extract(article)
    print(f"article {args.text.name} ({len(article):,} chars) repeated; CPU {cpu}, one thread; "
          f"RSS after warm-up {rss_mb():.0f} MiB")
    print(f"{'chars':>10} {'words':>9} {'claims':>7} {'parse s':>8} {'full s':>8} {'ms/kB':>7} {'rel':>5} {'peak MiB':>9}")
    rows = []
    for size in sizes:
        text = document(article, size)
        start = time.perf_counter()
        parse(extractor.nlp, text)
        parse_s = time.perf_counter() - start
        with PeakRss() as peak:
            start = time.perf_counter()
            claims = len(extractor.extract(text).claims)
            full_s = time.perf_counter() - start
        per_kb = 1000 * full_s / (len(text) / 1000)
        rows.append({"chars": len(text), "words": count_words(text), "claims": claims, "parse_s": round(parse_s, 3),
                     "full_s": round(full_s, 3), "ms_per_kb": round(per_kb, 2), "peak_rss_mib": round(peak.peak_mb)})
        rel = per_kb / rows[0]["ms_per_kb"]
        print(f"{len(text):>10,} {count_words(text):>9,} {claims:>7,} {parse_s:>8.2f} {full_s:>8.2f} "
              f"{per_kb:>7.2f} {rel:>5.2f} {peak.peak_mb:>9.0f}")
    print(json.dumps({"article": args.text.name, "rows": rows,
                      "linearity": round(rows[-1]["ms_per_kb"] / rows[0]["ms_per_kb"], 3)}))


if __name__ == "__main__":
    main()
