"""How long the article page takes to render, for the seed article and a 100 kB article.

    python bench/page_render.py http://127.0.0.1:8000 [--runs 20]

Both articles are submitted (the 100 kB one is the seed text repeated, numbered so that
no two paragraphs are identical) and extracted first, untimed. Then, per article:

- ``server``: the time of ``GET /v1/articles/{id}`` with a browser's ``Accept`` (the
  page rendered by the API: read from Redis, mark-up, template), median and p95 of
  ``--runs`` requests;
- ``browser``: headless Chromium loading the page through its ``links.view`` and
  dumping the DOM (start-up included), minus the same for ``about:blank``: median of
  a few runs. Needs Debian's ``chromium``.

The API key, if the service needs one, comes from ``CLAIMWIRE_API_KEY``. The last line is JSON.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests
from service_client import service_session

SEED = next((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt")).read_text(encoding="utf-8")
LARGE_BYTES = 100_000
BROWSER_RUNS = 5
EXTRACT_TIMEOUT = 600.0
HTTP_TIMEOUT = 30.0
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def large_text() -> str:
    parts, size, n = [], 0, 0
    while size < LARGE_BYTES:
        n += 1
        part = f"Part {n}.\n{SEED}\n"
        parts.append(part)
        size += len(part.encode())
    return "".join(parts)


def extracted(session: requests.Session, base: str, text: str) -> dict:
    posted = session.post(f"{base}/v1/articles", json={"text": text, "title": "Bench"}, timeout=HTTP_TIMEOUT)
    posted.raise_for_status()
    url = f"{base}/v1/articles/{posted.json()['id']}"
    deadline = time.monotonic() + EXTRACT_TIMEOUT
    while time.monotonic() < deadline:
        body = session.get(url, timeout=HTTP_TIMEOUT).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.5)
    raise TimeoutError("the extraction did not finish")


def chromium_seconds(chromium: str, url: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url],
        check=True, capture_output=True, timeout=120,
    )
    return time.perf_counter() - started


def main() -> None:
    base, runs, session = service_session(__doc__.split("\n")[0], default_runs=20)
    chromium = shutil.which("chromium")
    blank = statistics.median(chromium_seconds(chromium, "about:blank") for _ in range(BROWSER_RUNS)) if chromium else None
    figures = {}
    for name, text in (("seed", SEED), ("100kB", large_text())):
        article = extracted(session, base, text)
        url = f"{base}/v1/articles/{article['id']}"
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            page = session.get(url, headers={"Accept": BROWSER_ACCEPT}, timeout=HTTP_TIMEOUT)
            times.append(time.perf_counter() - started)
            page.raise_for_status()
        times.sort()
        entry = {
            "text_bytes": len(text.encode()),
            "claims": len(article.get("claims", [])),
            "page_bytes": len(page.content),
            "server_median_ms": round(statistics.median(times) * 1000, 1),
            "server_p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)] * 1000, 1),
        }
        if chromium:
            load = statistics.median(chromium_seconds(chromium, base + article["links"]["view"]) for _ in range(BROWSER_RUNS))
            entry["browser_median_ms"] = round((load - blank) * 1000, 1)
        figures[name] = entry
        print(f"{name}: {entry}", file=sys.stderr)
    print(json.dumps({"runs": runs, "chromium_blank_ms": round(blank * 1000, 1) if blank else None, **figures}))


if __name__ == "__main__":
    main()
