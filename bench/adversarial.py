"""Extraction time of adversarial text shapes beside ordinary prose of the same length.

    python bench/adversarial.py                          # 50,000 and 500,000 characters
    python bench/adversarial.py --sizes 20000 --shapes quotes,commas --max-ratio 3

Each shape is built to exactly the size: runs of one punctuation mark, nested curly
quotes, a comma storm, an HTML page, many tiny paragraphs, one huge word and a few more
shapes that once cost quadratic time. Every extraction runs in a process forked from a
warmed-up one (as RQ forks a work-horse), pinned to one core; prose is stopped after
``--timeout`` seconds and a shape after ``--max-ratio`` times what prose of its size took,
so the whole run is bounded. Prints seconds, the ratio to prose of
the same size, the tokens the parser saw and the work-horse's peak RSS and address space
(what ``CLAIMWIRE_JOB_MEMORY_MB`` bounds); the last line is JSON.
"""

from __future__ import annotations

import single_core  # noqa: F401  (first: sets the thread counts before numpy loads)

import argparse
import json
import multiprocessing
import resource
import time
from collections.abc import Callable
from pathlib import Path

from single_core import pin_to_one_core, rss_mb

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_f811b88706461c54.txt"
DEFAULT_SIZES = "50000,500000"
DEFAULT_TIMEOUT = 900.0
DEFAULT_MAX_RATIO = 5.0
HTML_ROW = ('<tr class="row"><td><a href="https://example.com/a?b=1&amp;c=2">Link</a></td>'
            "<td>&nbsp;1,234</td><td><b>x</b></td></tr>\n")
HTML_SCRIPT = '<script>var a={"b":[1,2,3],"c":function(d){return d<3&&d>1}};</script>\n'


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def _prose(size: int) -> str:
    article = SEED.read_text(encoding="utf-8").strip()
    return _repeat(article + "\n\n", size)


SHAPES: dict[str, Callable[[int], str]] = {
    "prose": _prose,
    "quotes": lambda n: '"' * n,
    "nested_quotes": lambda n: _repeat("“‘«„", n),
    "quoted_words": lambda n: _repeat("“a” ", n),
    "commas": lambda n: _repeat("a, ", n),
    "dense_commas": lambda n: _repeat("a,", n),
    "commas_under_cap": lambda n: _repeat("abc, ", n),
    "html": lambda n: _repeat(HTML_SCRIPT + "<table>\n" + HTML_ROW * 20 + "</table>\n", n),
    "tiny_paragraphs": lambda n: _repeat("Yes.\n\n", n),
    "tiny_lines": lambda n: _repeat("a\n", n),
    "lines_under_cap": lambda n: _repeat("Yes, sir.\n", n),
    "huge_word": lambda n: "a" * n,
    "affix_word": lambda n: _repeat("a's", n),
    "emoji": lambda n: "\U0001F600" * n,
}


def _extract(text: str, out: multiprocessing.connection.Connection) -> None:
    from workers.pipeline import get_extractor
    from workers.pipeline.normalize import neutralise
    from workers.pipeline.markup import mask_markup

    extractor = get_extractor()
    start = time.perf_counter()
    claims = len(extractor.extract(text).claims)
    seconds = time.perf_counter() - start
    tokens = len(extractor.nlp.tokenizer(neutralise(mask_markup(text))))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    status = Path("/proc/self/status").read_text()
    peak_vm = int(status.split("VmPeak:")[1].split()[0]) / 1024  # the address space CLAIMWIRE_JOB_MEMORY_MB bounds
    out.send({"seconds": seconds, "claims": claims, "tokens": tokens, "peak_rss_mib": round(peak),
              "peak_vm_mib": round(peak_vm)})


def measure(text: str, timeout: float) -> dict[str, object]:
    """One extraction in a forked process; ``{"timeout": True}`` when it ran past ``timeout``."""
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(target=_extract, args=(text, send))
    child.start()
    ready = receive.poll(timeout)
    if not ready:
        child.kill()
        child.join()
        return {"timeout": True, "seconds": timeout}
    result = receive.recv()
    child.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="text sizes in characters, comma-separated")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="shapes to run, comma-separated")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds for the prose extraction")
    parser.add_argument("--max-ratio", type=float, default=DEFAULT_MAX_RATIO,
                        help="a shape is stopped after this many times the seconds of prose of its size")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed)")
    args = parser.parse_args()

    cpu = pin_to_one_core(args.cpu)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    shapes = [s for s in args.shapes.split(",") if s != "prose"]

    from workers.pipeline import get_extractor

    get_extractor().extract(_prose(5_000))
    print(f"CPU {cpu}, one thread; RSS after warm-up {rss_mb():.0f} MiB; a shape is stopped at {args.max_ratio:g}x prose")
    print(f"{'shape':>16} {'chars':>9} {'tokens':>8} {'seconds':>8} {'ratio':>6} {'RSS MiB':>8} {'VM MiB':>7}")
    rows = []
    for size in sizes:
        baseline = measure(_prose(size), args.timeout)
        cap = args.max_ratio * baseline["seconds"]
        for shape in ["prose", *shapes]:
            result = baseline if shape == "prose" else measure(SHAPES[shape](size), cap)
            ratio = result["seconds"] / baseline["seconds"]
            row = {"shape": shape, "chars": size, **result, "ratio": round(ratio, 2)}
            row["seconds"] = round(row["seconds"], 3)
            rows.append(row)
            shown = f">{result['seconds']:.0f}" if result.get("timeout") else f"{result['seconds']:.2f}"
            print(f"{shape:>16} {size:>9,} {result.get('tokens', '-'):>8} {shown:>8} {ratio:>6.2f} "
                  f"{result.get('peak_rss_mib', '-'):>8} {result.get('peak_vm_mib', '-'):>7}", flush=True)
    worst = max((r for r in rows if r["shape"] != "prose"), key=lambda r: r["ratio"])
    print(json.dumps({"rows": rows, "worst": {"shape": worst["shape"], "chars": worst["chars"], "ratio": worst["ratio"]}}))


if __name__ == "__main__":
    main()
