"""Job path: extraction throughput through the whole service, against the pipeline alone.

    python bench/job_path.py ../shared/eval/polnear.dev.jsonl [--limit 60]

In one run, on the first ``--limit`` documents of the JSONL file: the pipeline alone in
this process (``get_extractor().extract`` and the claims' serialisation, one document at
a time as a job does it), then ``claimwire serve`` with 1 worker and with 2 workers
(private Redis, one API key). Each service is warmed up (one extraction per worker),
the documents are POSTed at once from 8 client threads, and the clock runs from the first
POST to the last article ``done``. The pipeline alone runs before, between and after the
two services; the reference for each service is the mean of the runs just before and
just after it, so that load drifting on the machine falls on both sides alike. Also
measured, per service: the seed article from ``POST /v1/extract`` to its claims (done),
warm, median of 10 (deleted between runs so that each run extracts it again); the RSS of
each worker (its model loaded, before and after the burst), of each work-horse after the
burst (RSS and the USS it adds to its worker) and of each API process, and how many
work-horses were forked during the burst. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests
from redis import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from served import MB, Service, serving  # noqa: E402
from single_core import count_words  # noqa: E402
from speed import read_texts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = next((ROOT / "seeds").glob("*.txt"))
PUBLISHED_AT = "2023-03-21T09:00:00Z"
CLIENT_THREADS = 8
LATENCY_RUNS = 10
BURST_TIMEOUT = 600.0
POLL_EVERY = 0.05  # the statuses of the articles not yet done; rarely, so that the bench takes little CPU from the workers
HTTP_TIMEOUT = 60.0


def pipeline_alone(texts: list[str]) -> float:
    """Seconds the pipeline takes over the texts, one at a time, as the job runs it."""
    from workers.claims import dump_extraction
    from workers.pipeline import get_extractor

    extractor = get_extractor()
    started = time.perf_counter()
    for text in texts:
        json.dumps(dump_extraction(extractor.extract(text, None)))
    return time.perf_counter() - started


def worker_tree(service: Service) -> tuple[list[psutil.Process], list[psutil.Process]]:
    """The worker processes, and their work-horses (a worker's child in a process group of its own;
    the other child, RQ's scheduler, stays in the worker's group)."""
    processes = service.processes("worker")
    pids = {p.pid for p in processes}
    workers, horses = [], []
    for proc in processes:
        try:
            if proc.ppid() not in pids:
                workers.append(proc)
            elif os.getpgid(proc.pid) == proc.pid:
                horses.append(proc)
        except (psutil.Error, ProcessLookupError):
            continue
    worker_pids = {w.pid for w in workers}
    return workers, [h for h in horses if h.ppid() in worker_pids]


def worker_rss(service: Service) -> list[float]:
    """RSS of each worker process (not of a work-horse it forked), in MiB."""
    sizes = []
    for proc in worker_tree(service)[0]:
        try:
            sizes.append(proc.memory_info().rss / MB)
        except psutil.Error:
            continue
    return sorted(sizes)


def horse_memory(service: Service) -> list[tuple[float, float]]:
    """(RSS, USS) in MiB of each work-horse.

    The RSS counts the pages a horse shares with its worker; the USS only its own copies,
    what it adds to the worker's memory.
    """
    sizes = []
    for proc in worker_tree(service)[1]:
        try:
            info = proc.memory_full_info()
            sizes.append((info.rss / MB, info.uss / MB))
        except psutil.Error:
            continue
    return sorted(sizes)


def horses_forked(service: Service) -> int:
    """Work-horses the workers have forked so far, as their log lines say (workers.horse)."""
    text = service.log.read_text(encoding="utf-8", errors="replace")
    return sum(1 for line in text.splitlines() if "work-horse" in line and "forked" in line)


def wait_for_workers(redis: Redis, count: int) -> None:
    from rq import Worker

    deadline = time.monotonic() + 120
    while Worker.count(connection=redis) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} workers did not start")
        time.sleep(0.1)


def extract(service: Service, session: requests.Session, article: dict) -> dict:
    answer = session.post(f"{service.base}/v1/extract", json=article, headers=service.headers, timeout=HTTP_TIMEOUT)
    answer.raise_for_status()
    body = answer.json()
    if body["status"] != "done":
        raise RuntimeError(f"extraction not done: {body['status']}")
    return body


def seed_latency(service: Service, session: requests.Session) -> list[float]:
    """Seconds from POST /v1/extract of the seed article to the answer with its claims, per run."""
    article = {"text": SEED.read_text(encoding="utf-8"), "published_at": PUBLISHED_AT}
    timings = []
    for _ in range(LATENCY_RUNS + 1):
        started = time.perf_counter()
        body = extract(service, session, article)
        timings.append(time.perf_counter() - started)
        session.delete(f"{service.base}/v1/articles/{body['id']}", headers=service.headers, timeout=HTTP_TIMEOUT)
    return timings[1:]  # the first is the warm-up


def burst(service: Service, texts: list[str]) -> float:
    """Seconds from the first POST of all texts to the last article done."""
    redis = Redis.from_url(service.redis_url)

    def post(text: str) -> str:
        with requests.post(f"{service.base}/v1/articles", json={"text": text}, headers=service.headers,
                           timeout=HTTP_TIMEOUT) as answer:
            if answer.status_code != 202:
                raise RuntimeError(f"POST answered {answer.status_code}: {answer.text[:200]}")
            return answer.json()["id"]

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        ids = list(pool.map(post, texts))
    deadline = time.monotonic() + BURST_TIMEOUT
    pending = ids
    while time.monotonic() < deadline:
        with redis.pipeline(transaction=False) as pipe:
            for article_id in pending:
                pipe.hget(f"claimwire:article:{article_id}", "status")
            statuses = pipe.execute()
        if any(s in (b"failed", None) for s in statuses):
            raise RuntimeError(f"an article failed or vanished: {statuses}")
        pending = [i for i, s in zip(pending, statuses) if s != b"done"]
        if not pending:
            return time.perf_counter() - started
        time.sleep(POLL_EVERY)
    raise TimeoutError(f"not all done within {BURST_TIMEOUT:.0f} s")


def through_service(workers: int, texts: list[str]) -> dict:
    with serving(workers=workers, env={"CLAIMWIRE_RATE_LIMIT": "off"}) as service:
        redis = Redis.from_url(service.redis_url)
        wait_for_workers(redis, workers)
        session = requests.Session()
        for i in range(workers):  # one extraction per worker, so that each is warm
            extract(service, session, {"text": f"The minister said that taxes would rise by {i + 2} percent."})
        rss_loaded = worker_rss(service)
        latency = seed_latency(service, session)
        forked_before = horses_forked(service)
        seconds = burst(service, texts)
        return {
            "seconds": seconds,
            "latency_s": latency,
            "worker_rss_loaded": rss_loaded,
            "worker_rss_after": worker_rss(service),
            "horses_after": horse_memory(service),
            "horses_forked": horses_forked(service) - forked_before,
            "api_rss": service.rss_mib("api"),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="JSONL in the common attribution format")
    parser.add_argument("--limit", type=int, default=60)
    args = parser.parse_args()
    texts = read_texts(args.data, args.limit)
    words = sum(count_words(t) for t in texts)

    pipeline_alone(texts[:3])  # load and warm
    alone = [pipeline_alone(texts)]
    services = {}
    for n in (1, 2):
        services[n] = through_service(n, texts)
        alone.append(pipeline_alone(texts))

    reference = {n: words / statistics.mean(alone[i:i + 2]) for i, n in enumerate(services)}
    alone_rate = words / statistics.mean(alone)
    rates = {n: words / s["seconds"] for n, s in services.items()}
    print(f"documents          {len(texts)} from {args.data}, {words:,} words")
    print(f"pipeline alone     {alone_rate:7,.0f} words/s   runs (s): {' '.join(f'{t:.2f}' for t in alone)}")
    for n, s in services.items():
        lat = s["latency_s"]
        print(f"service, {n} worker{'s' if n > 1 else ' '} {rates[n]:7,.0f} words/s   {s['seconds']:.2f} s   "
              f"{rates[n] / reference[n]:.2f}x the pipeline alone around it ({reference[n]:,.0f} words/s)")
        print(f"  seed POST->done  median {statistics.median(lat) * 1000:.0f} ms "
              f"(min {min(lat) * 1000:.0f}, max {max(lat) * 1000:.0f}) over {len(lat)} warm runs")
        print(f"  RSS (MiB)        workers loaded {', '.join(f'{r:.0f}' for r in s['worker_rss_loaded'])}; "
              f"after the burst {', '.join(f'{r:.0f}' for r in s['worker_rss_after'])}; "
              f"API processes (master first) {', '.join(f'{r:.0f}' for r in s['api_rss'])}")
        print(f"  work-horses      after the burst, RSS / USS (MiB) "
              f"{', '.join(f'{r:.0f} / {u:.0f}' for r, u in s['horses_after']) or 'none'}; "
              f"{s['horses_forked']} forked during the burst")
    print(f"2 workers / 1      {rates[2] / rates[1]:.2f}x")
    print(json.dumps({
        "documents": len(texts), "words": words,
        "pipeline_words_per_s": round(alone_rate), "pipeline_runs_s": [round(t, 2) for t in alone],
        "service_words_per_s": {str(n): round(r) for n, r in rates.items()},
        "ratio_1_worker_to_pipeline": round(rates[1] / reference[1], 3),
        "ratio_2_workers_to_1": round(rates[2] / rates[1], 3),
        "seed_post_to_done_median_ms": {str(n): round(statistics.median(s["latency_s"]) * 1000, 1)
                                        for n, s in services.items()},
        "worker_rss_loaded_mib": {str(n): [round(r) for r in s["worker_rss_loaded"]] for n, s in services.items()},
        "worker_rss_after_mib": {str(n): [round(r) for r in s["worker_rss_after"]] for n, s in services.items()},
        "api_rss_mib": {str(n): [round(r) for r in s["api_rss"]] for n, s in services.items()},
        "horses_forked_in_burst": {str(n): s["horses_forked"] for n, s in services.items()},
        "horse_rss_uss_after_mib": {str(n): [[round(r), round(u)] for r, u in s["horses_after"]]
                                    for n, s in services.items()},
    }))


if __name__ == "__main__":
    main()
