"""Job path: extraction throughput through the whole service, against the pipeline alone.

    python bench/job_path.py ../shared/eval/polnear.dev.jsonl [--limit 60] [--rounds 3]

Each round takes the next ``--limit`` documents of the JSONL file, so no text is extracted
twice: in a real deployment every article is new, and a process that has seen a text before
extracts it faster (a work-horse's first pass over 60 dev texts took 1.07–1.23 times its
second here; spaCy's tokenizer alone 0.30 s against 0.13 s). Two ``claimwire serve`` run,
one with 1 worker and one with 2 (each its own private Redis and one API key, both started
first, each worker warmed by one extraction). The pipeline alone
(``get_extractor().extract`` and the claims' serialisation, one document at a time as a job
does it) runs in a process forked from this one for every run, after this one has loaded and
warmed the pipeline exactly as a worker does (``prepare_pipeline``): each run starts from
the state a fresh work-horse starts from, and has not seen the round's texts. Each round
runs the pipeline alone, bursts the round's documents at one service, runs the pipeline
alone again, bursts them at the other service, and runs it a third time. A burst POSTs all
documents at once from 8 client threads, the clock running from the first POST to the last
article ``done``; the articles are deleted after. The reference of a burst is the mean of
the pipeline runs just before and just after it: the machine's speed drifts by a third
within a minute here, so each figure is a ratio of neighbours in time, one per round, and
the median is printed with every round's value. A service's pace is its reference over its
burst's time; two workers against one is the ratio of the two paces (the raw ratio of the
burst times is printed too). The service not bursting idles meanwhile; its CPU time over the
other's burst is printed, to show that it takes nothing. Also measured, per service and
round: the seed article from ``POST /v1/extract`` to its claims (done), warm, median of 10
(deleted between runs), beside the same article's extraction alone in this process (warm,
median of 10, just before), so that the difference is the service's share of that time; then
the RSS of each worker (its model loaded, and after the bursts), of each work-horse (RSS and
the USS it adds to its worker) and of each API process, and how many work-horses were forked
during the bursts. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import struct
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

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


def as_a_job(text: str, published: datetime | None) -> None:
    """Extract one text and serialise its claims, as a job does."""
    from workers.claims import dump_extraction
    from workers.pipeline import get_extractor

    json.dumps(dump_extraction(get_extractor().extract(text, published)))


def warm_median(timed_run: Callable[[], float]) -> float:
    """Median of ``LATENCY_RUNS`` runs' seconds, after one run to warm up; each run times itself."""
    timed_run()
    return statistics.median(timed_run() for _ in range(LATENCY_RUNS))


def pipeline_alone(texts: list[str]) -> float:
    """Seconds the pipeline takes over the texts, one at a time as a job runs it, in a process
    forked from this one (as a work-horse is from its worker), so that it sees them first."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: extract, report the seconds, and leave without any cleanup of the parent's
        os.close(read_end)
        try:
            started = time.perf_counter()
            for text in texts:
                as_a_job(text, None)
            os.write(write_end, struct.pack("d", time.perf_counter() - started))
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reply:
        data = reply.read()
    os.waitpid(pid, 0)
    if len(data) != struct.calcsize("d"):
        raise RuntimeError("the pipeline run died before reporting")
    return struct.unpack("d", data)[0]


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


def seed_latency(service: Service, session: requests.Session) -> float:
    """Median seconds from POST /v1/extract of the seed article to the answer with its claims, warm."""
    article = {"text": SEED.read_text(encoding="utf-8"), "published_at": PUBLISHED_AT}

    def timed_run() -> float:
        started = time.perf_counter()
        body = extract(service, session, article)
        seconds = time.perf_counter() - started
        session.delete(f"{service.base}/v1/articles/{body['id']}", headers=service.headers, timeout=HTTP_TIMEOUT)
        return seconds

    return warm_median(timed_run)


def seed_alone() -> float:
    """Median seconds of the seed article's extraction and serialisation in this process, warm:
    the part of its POST -> done time that is the pipeline's own."""
    text, published = SEED.read_text(encoding="utf-8"), datetime.fromisoformat(PUBLISHED_AT)

    def timed_run() -> float:
        started = time.perf_counter()
        as_a_job(text, published)
        return time.perf_counter() - started

    return warm_median(timed_run)


def burst(service: Service, texts: list[str]) -> float:
    """Seconds from the first POST of all texts to the last article done; the articles are then
    deleted, so that the next burst extracts them again."""
    redis = Redis.from_url(service.redis_url)

    def send(method: str, path: str, expected: int, **body: Any) -> requests.Response:
        answer = requests.request(method, f"{service.base}{path}", headers=service.headers, timeout=HTTP_TIMEOUT,
                                  **body)
        if answer.status_code != expected:
            raise RuntimeError(f"{method} {path} answered {answer.status_code}: {answer.text[:200]}")
        return answer

    def post(text: str) -> str:
        return send("POST", "/v1/articles", 202, json={"text": text}).json()["id"]

    def delete(article_id: str) -> None:
        send("DELETE", f"/v1/articles/{article_id}", 204)

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        ids = list(pool.map(post, texts))
    deadline = time.monotonic() + BURST_TIMEOUT
    pending = ids
    while pending:
        if time.monotonic() > deadline:
            raise TimeoutError(f"not all done within {BURST_TIMEOUT:.0f} s")
        with redis.pipeline(transaction=False) as pipe:
            for article_id in pending:
                pipe.hget(f"claimwire:article:{article_id}", "status")
            statuses = pipe.execute()
        if any(s in (b"failed", None) for s in statuses):
            raise RuntimeError(f"an article failed or vanished: {statuses}")
        pending = [i for i, s in zip(pending, statuses) if s != b"done"]
        if pending:
            time.sleep(POLL_EVERY)
    seconds = time.perf_counter() - started
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        list(pool.map(delete, set(ids)))
    return seconds


def started(stack: ExitStack, workers: int) -> Service:
    """A ``claimwire serve`` with ``workers`` workers, each warmed by one extraction."""
    service = stack.enter_context(serving(workers=workers, env={"CLAIMWIRE_RATE_LIMIT": "off"}))
    wait_for_workers(Redis.from_url(service.redis_url), workers)
    session = requests.Session()
    for i in range(workers):
        extract(service, session, {"text": f"The minister said that taxes would rise by {i + 2} percent."})
    return service


def spread(values: list[float], unit: str = "x", scale: float = 1.0, digits: int = 2) -> str:
    """Median, then each value in order of the rounds."""
    each = ", ".join(f"{v * scale:.{digits}f}" for v in values)
    return f"median {statistics.median(values) * scale:.{digits}f}{unit} (rounds: {each})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="JSONL in the common attribution format")
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3, help="bursts per service, interleaved")
    args = parser.parse_args()
    texts = read_texts(args.data, args.limit * args.rounds)
    if len(texts) < args.limit * args.rounds:
        raise SystemExit(f"{args.data} has {len(texts)} documents; {args.rounds} rounds of {args.limit} need more")
    batches = [texts[r * args.limit:(r + 1) * args.limit] for r in range(args.rounds)]
    words = [sum(count_words(t) for t in batch) for batch in batches]
    counts = (1, 2)

    from workers.worker import prepare_pipeline

    prepare_pipeline()  # load, warm up and freeze, as a worker does before it forks
    with ExitStack() as stack:
        services = {n: started(stack, n) for n in counts}
        loaded = {n: worker_rss(s) for n, s in services.items()}
        forked_before = {n: horses_forked(s) for n, s in services.items()}
        alone: list[list[float]] = []
        seconds: dict[int, list[float]] = {n: [] for n in counts}
        reference: dict[int, list[float]] = {n: [] for n in counts}
        latency: dict[int, list[float]] = {n: [] for n in counts}
        alone_seed: dict[int, list[float]] = {n: [] for n in counts}
        idle_cpu: list[float] = []
        session = requests.Session()
        for batch in batches:
            runs = [pipeline_alone(batch)]
            for n in counts:
                idle = [s for m, s in services.items() if m != n]
                idle_before = sum(s.cpu_seconds() for s in idle)
                alone_seed[n].append(seed_alone())
                latency[n].append(seed_latency(services[n], session))
                seconds[n].append(burst(services[n], batch))
                idle_cpu.append(sum(s.cpu_seconds() for s in idle) - idle_before)
                runs.append(pipeline_alone(batch))
                reference[n].append(statistics.mean(runs[-2:]))
            alone.append(runs)
        summary = {n: {
            "worker_rss_loaded": loaded[n],
            "worker_rss_after": worker_rss(s),
            "horses_after": horse_memory(s),
            "horses_forked": horses_forked(s) - forked_before[n],
            "api_rss": s.rss_mib("api"),
        } for n, s in services.items()}

    pace = {n: [ref / sec for ref, sec in zip(reference[n], seconds[n])] for n in counts}
    per_worker = pace[1]
    two_to_one = [two / one for one, two in zip(pace[1], pace[2])]
    two_to_one_raw = [one / two for one, two in zip(seconds[1], seconds[2])]
    print(f"documents          {args.rounds} rounds of {args.limit} from {args.data}, none twice; "
          f"words per round {', '.join(f'{w:,}' for w in words)}")
    print(f"pipeline alone     runs per round (s): {'; '.join(' '.join(f'{t:.2f}' for t in runs) for runs in alone)}")
    for n in counts:
        print(f"service, {n} worker{'s' if n > 1 else ' '} bursts (s): {' '.join(f'{t:.2f}' for t in seconds[n])}; "
              f"the pipeline alone around each (s): {' '.join(f'{t:.2f}' for t in reference[n])}")
        print(f"  seed POST->done  medians of {LATENCY_RUNS} warm runs, "
              f"{spread(latency[n], ' ms', 1000, 0)}")
        print(f"  seed alone       extraction in this process, warm, {spread(alone_seed[n], ' ms', 1000, 0)}; "
              f"the service's share {spread([t - a for t, a in zip(latency[n], alone_seed[n])], ' ms', 1000, 0)}")
        s = summary[n]
        print(f"  RSS (MiB)        workers loaded {', '.join(f'{r:.0f}' for r in s['worker_rss_loaded'])}; "
              f"after the bursts {', '.join(f'{r:.0f}' for r in s['worker_rss_after'])}; "
              f"API processes (master first) {', '.join(f'{r:.0f}' for r in s['api_rss'])}")
        print(f"  work-horses      after the bursts, RSS / USS (MiB) "
              f"{', '.join(f'{r:.0f} / {u:.0f}' for r, u in s['horses_after']) or 'none'}; "
              f"{s['horses_forked']} forked during the bursts")
    print(f"1 worker / alone   {spread(per_worker)}")
    print(f"2 workers / 1      paces: {spread(two_to_one)}; burst times alone: {spread(two_to_one_raw)}")
    print(f"idle service       CPU during the other's seed runs and burst (s): {' '.join(f'{c:.2f}' for c in idle_cpu)}")
    print(json.dumps({
        "documents_per_round": args.limit, "words_per_round": words, "rounds": args.rounds,
        "pipeline_runs_s": [[round(t, 2) for t in runs] for runs in alone],
        "burst_s": {str(n): [round(t, 2) for t in seconds[n]] for n in counts},
        "ratio_1_worker_to_pipeline": [round(r, 3) for r in per_worker],
        "ratio_1_worker_to_pipeline_median": round(statistics.median(per_worker), 3),
        "ratio_2_workers_to_1": [round(r, 3) for r in two_to_one],
        "ratio_2_workers_to_1_median": round(statistics.median(two_to_one), 3),
        "ratio_2_workers_to_1_burst_times": [round(r, 3) for r in two_to_one_raw],
        "seed_post_to_done_median_ms": {str(n): [round(t * 1000, 1) for t in latency[n]] for n in counts},
        "seed_extraction_alone_median_ms": {str(n): [round(t * 1000, 1) for t in alone_seed[n]] for n in counts},
        "idle_service_cpu_s": [round(c, 2) for c in idle_cpu],
        "worker_rss_loaded_mib": {str(n): [round(r) for r in s["worker_rss_loaded"]] for n, s in summary.items()},
        "worker_rss_after_mib": {str(n): [round(r) for r in s["worker_rss_after"]] for n, s in summary.items()},
        "api_rss_mib": {str(n): [round(r) for r in s["api_rss"]] for n, s in summary.items()},
        "horses_forked_in_bursts": {str(n): s["horses_forked"] for n, s in summary.items()},
        "horse_rss_uss_after_mib": {str(n): [[round(r), round(u)] for r, u in s["horses_after"]]
                                    for n, s in summary.items()},
    }))


if __name__ == "__main__":
    main()
