"""Articles by URL, webhook latency and a 2,000-article batch, against a real `claimwire serve`.

    python bench/newsroom.py [--runs 10] [--batch 2000] [--workers 2]

Starts ``claimwire serve`` (private Redis, ``--workers`` extraction workers, one webhook
worker, the API) in a temporary folder, with fetching allowed to loopback only for the
two servers this script runs itself: a page server (the test news page, a new URL per
run so nothing is reused) and a webhook receiver that checks every signature with the
reference ``standardwebhooks`` library. Then it measures:

1. URL → claims: from ``POST /v1/articles {"url"}`` to the first GET showing ``done``
   (fetch, trafilatura, extraction), polled every ``POLL_INTERVAL`` s; median and max.
2. Webhook latency: from the article's ``finished_at`` (written by the worker in the
   transaction that queues the delivery) to the receiver having the signed event.
3. A batch of ``--batch`` distinct articles as one NDJSON request: time to accepted, time
   until ``settled``, the API's peak memory (sum of the RSS of gunicorn's processes,
   sampled every ``SAMPLE_INTERVAL`` s while submitting, waiting and streaming), and the
   NDJSON claims checked line by line: every index once, every item done with claims.

The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import requests
from standardwebhooks.webhooks import Webhook as ReferenceVerifier

REPO = Path(__file__).resolve().parent.parent
PAGE = (REPO / "tests" / "data" / "news_page.html").read_bytes()
CLAIMWIRE = str(Path(sys.executable).with_name("claimwire"))
POLL_INTERVAL = 0.01
SAMPLE_INTERVAL = 0.1
READY_TIMEOUT = 120.0
RUN_TIMEOUT = 60.0
BATCH_TIMEOUT = 1800.0
HTTP_TIMEOUT = 60.0
BATCH_TEXT = (
    "The finance minister said on Thursday that taxes would rise next year to close a budget gap of {n} million euros. "
    '"We cannot keep borrowing to pay for the running costs of the state," Anna Berg told reporters. '
    "Opposition leader Tomas Lind accused the government of breaking its promises."
)


class Pages(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)


class Receiver(BaseHTTPRequestHandler):
    secret = ""
    arrivals: dict[str, float] = {}  # article id -> time the signed event arrived
    bad_signatures = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        arrived = time.time()
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            ReferenceVerifier(Receiver.secret).verify(body, {k.lower(): v for k, v in self.headers.items()})
        except Exception:
            Receiver.bad_signatures += 1
            self.send_response(400)
        else:
            Receiver.arrivals.setdefault(json.loads(body)["data"]["article_id"], arrived)
            self.send_response(204)
        self.end_headers()


def serve_in_thread(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_for(predicate, timeout: float, what: str, interval: float = POLL_INTERVAL):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what}: nothing after {timeout:.0f}s")


class MemorySampler(threading.Thread):
    """Peak summed RSS of the gunicorn processes under ``serve``."""

    def __init__(self, serve: subprocess.Popen) -> None:
        super().__init__(daemon=True)
        self.serve, self.peak, self.stop = serve, 0, threading.Event()

    def api_processes(self) -> list[psutil.Process]:
        found = []
        for child in psutil.Process(self.serve.pid).children(recursive=True):
            try:
                if "gunicorn" in " ".join(child.cmdline()) or "api" in child.cmdline()[1:]:
                    found.append(child)
            except psutil.NoSuchProcess:
                continue
        return found

    def run(self) -> None:
        while not self.stop.is_set():
            total = 0
            for proc in self.api_processes():
                try:
                    total += proc.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(SAMPLE_INTERVAL)


def parse_time(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    pages, receiver = serve_in_thread(Pages), serve_in_thread(Receiver)
    page_port, receiver_port = pages.server_address[1], receiver.server_address[1]
    sys.path.insert(0, str(REPO))
    from service.embedded_redis import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="claimwire-bench-"))
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        CLAIMWIRE_FETCH_ALLOW_NETWORKS="127.0.0.0/8",
        CLAIMWIRE_FETCH_PORTS=f"{page_port},{receiver_port}",
        CLAIMWIRE_RATE_LIMIT="100000/minute",
        CLAIMWIRE_DATA_DIR=str(workdir / "data"),
        PYTHONUNBUFFERED="1",
    )
    log = open(workdir / "serve.log", "w")
    serve = subprocess.Popen([CLAIMWIRE, "serve", "--port", str(port), "--workers", str(args.workers)],
                             env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    session = requests.Session()
    try:
        wait_for(lambda: _ready(session, base), READY_TIMEOUT, "readiness", 0.5)
        created = session.post(f"{base}/v1/webhooks", json={"url": f"http://127.0.0.1:{receiver_port}/hook"},
                               timeout=HTTP_TIMEOUT)
        created.raise_for_status()
        Receiver.secret = created.json()["secret"]

        session.post(f"{base}/v1/articles", json={"text": "Warm-up: the mayor said it would rain."}, timeout=HTTP_TIMEOUT)
        url_times, hook_latencies = [], []
        for run in range(args.runs + 1):
            started = time.perf_counter()
            posted = session.post(f"{base}/v1/articles", json={"url": f"http://127.0.0.1:{page_port}/news/{run}-{time.time_ns()}"},
                                  timeout=HTTP_TIMEOUT)
            posted.raise_for_status()
            location = base + posted.headers["Location"]
            article = wait_for(lambda: _settled(session, location), RUN_TIMEOUT, "URL article")
            elapsed = time.perf_counter() - started
            if article["status"] != "done" or not article["claims"]:
                raise RuntimeError(f"URL article did not end done with claims: {article}")
            arrived = wait_for(lambda: Receiver.arrivals.get(article["id"]), RUN_TIMEOUT, "webhook event")
            if run:  # run 0 warms up
                url_times.append(elapsed)
                hook_latencies.append(arrived - parse_time(article["finished_at"]))
        print(f"URL -> claims, loopback page, {args.runs} runs: median {statistics.median(url_times):.3f} s, "
              f"max {max(url_times):.3f} s")
        print(f"webhook done -> delivered: median {statistics.median(hook_latencies) * 1000:.1f} ms, "
              f"max {max(hook_latencies) * 1000:.1f} ms; bad signatures: {Receiver.bad_signatures}")

        sampler = MemorySampler(serve)
        sampler.start()
        body = "".join(json.dumps({"text": BATCH_TEXT.format(n=n)}) + "\n" for n in range(args.batch))
        started = time.perf_counter()
        accepted = session.post(f"{base}/v1/batches", data=body.encode(), timeout=HTTP_TIMEOUT,
                                headers={"Content-Type": "application/x-ndjson"})
        accepted.raise_for_status()
        accepted_after = time.perf_counter() - started
        batch = accepted.json()
        progress = wait_for(lambda: _batch_settled(session, base + batch["links"]["self"]), BATCH_TIMEOUT,
                            "batch", 1.0)
        finished_after = time.perf_counter() - started
        seen, done_with_claims = [], 0
        with session.get(base + batch["links"]["claims"], stream=True, timeout=HTTP_TIMEOUT) as stream:
            stream.raise_for_status()
            for line in stream.iter_lines():
                item = json.loads(line)
                seen.append(item["index"])
                done_with_claims += item["status"] == "done" and bool(item.get("claims"))
        sampler.stop.set()
        sampler.join()
        accounted = sorted(seen) == list(range(args.batch))
        print(f"batch of {args.batch}: accepted in {accepted_after:.2f} s ({batch['rejected']} rejected), "
              f"settled after {finished_after:.1f} s; counts {progress['counts']}")
        print(f"batch claims stream: {len(seen)} lines, every index once: {accounted}, done with claims: {done_with_claims}")
        print(f"API peak RSS (all gunicorn processes): {sampler.peak / 2**20:.0f} MiB")
        print(json.dumps({
            "url_to_claims_median_s": round(statistics.median(url_times), 3),
            "url_to_claims_max_s": round(max(url_times), 3),
            "webhook_latency_median_ms": round(statistics.median(hook_latencies) * 1000, 1),
            "webhook_latency_max_ms": round(max(hook_latencies) * 1000, 1),
            "bad_signatures": Receiver.bad_signatures,
            "batch_items": args.batch,
            "batch_accepted_s": round(accepted_after, 2),
            "batch_settled_s": round(finished_after, 1),
            "batch_counts": progress["counts"],
            "batch_lines": len(seen),
            "batch_every_item_accounted": accounted and done_with_claims == args.batch,
            "api_peak_rss_mib": round(sampler.peak / 2**20),
            "extraction_workers": args.workers,
        }))
    finally:
        serve.terminate()
        try:
            serve.wait(60)
        except subprocess.TimeoutExpired:
            serve.kill()
        pages.shutdown()
        receiver.shutdown()


def _ready(session: requests.Session, base: str) -> bool:
    try:
        return session.get(f"{base}/readyz", timeout=5).status_code == 200
    except requests.RequestException:  # not listening yet, or too busy starting
        return False


def _settled(session: requests.Session, location: str) -> dict | None:
    body = session.get(location, timeout=HTTP_TIMEOUT).json()
    return body if body["status"] in ("done", "failed") else None


def _batch_settled(session: requests.Session, url: str) -> dict | None:
    body = session.get(url, timeout=HTTP_TIMEOUT).json()
    return body if body["settled"] else None


if __name__ == "__main__":
    main()
