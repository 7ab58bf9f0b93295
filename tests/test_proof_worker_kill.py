"""Proof: kill -9 a worker while it extracts, 20 times over; every article still ends ``done``.

Twenty distinct articles, each long enough that its extraction takes over a second, are
worked off by three real workers. Each time an article is ``running`` for the first time,
the test SIGKILLs what runs it, alternating between the two ways a worker dies:

* ``parent``: the RQ worker process is killed, and with it the rest of its tree (its
  scheduler and the work-horse RQ forked into a process group of its own), as a lost
  container or host would; the extraction is lost, and a replacement worker is started;
* ``horse``: the work-horse alone is killed (the OOM killer's choice); its worker lives on.

Each article is killed once, so the kills alone never use up RQ's retries. The trials
overlap, which keeps the wall time down. At the end every article must be ``done``: none
``failed``, none stuck (pending on a job that is still alive) and none lost (gone, or
pending on a job that has ended), with RQ's queue and registries empty. Each article is put
back in the queue by the path of its kill (the stale-worker path for a dead worker, the
work-horse handler for a dead horse) within ``CLAIMWIRE_STALE_AFTER`` plus the time this
machine demonstrably takes for one step of work in the same run (the longest extraction or
worker start-up measured there), since a live worker runs the stale-worker path between jobs.

A first, smaller test pins down the case that used to take over a minute: the only
worker, holder of RQ's scheduler lock, is killed with its scheduler, and the retry of its
article must not wait for that lock to expire: the replacement releases it.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import psutil
from redis import Redis
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job

from service.queueing import ExtractionJobs
from service.store import DONE, FAILED, PENDING, ArticleStore, article_key
from support.fixtures_api import rq_leftovers
from support.seeds import SEED_TEXT
from support.waiting import poll

pytestmark = pytest.mark.slow  # a proof

TRIALS = 20
WORKERS = 3
COPIES = 10  # copies of the seed article per text: over a second of extraction on this machine
KINDS = ("horse", "parent")
POLL_INTERVAL = 0.02
RUN_TIMEOUT = 600.0  # a safety net: from the submissions until every article is settled
RECOVERY_TIMEOUT = 180.0  # a safety net for the lone worker's retry
RQ_SETTLE_TIMEOUT = 30.0
STALE_WORKER_PATH = "The worker running the extraction stopped responding. Retrying"  # workers.jobs
HORSE_DEATH_PATH = "The process running the extraction died (signal 9). Retrying"
LOCK_RELEASED = "released the lock of a silent scheduler"  # workers.worker


@dataclass
class Trial:
    article_id: str
    kind: str = ""
    killed_at: float = 0.0
    requeued_at: float = 0.0
    done_at: float = 0.0


def article_text(n: int) -> str:
    return "\n\n".join([SEED_TEXT] * COPIES) + f"\n\nTrial {n}."


def statuses(redis: Redis, ids: list[str]) -> dict[str, str | None]:
    """The status of each article, in one round trip."""
    with redis.pipeline(transaction=False) as pipe:
        for article_id in ids:
            pipe.hget(article_key(article_id), "status")
        raw = pipe.execute()
    return {i: (s.decode() if s else None) for i, s in zip(ids, raw)}


def job_of(redis: Redis, article_id: str) -> str:
    return redis.hget(article_key(article_id), "job_id").decode()


def running_processes(redis: Redis, article_id: str) -> tuple[psutil.Process, psutil.Process] | None:
    """The worker running the article's job and its work-horse; None if they are not (yet) found."""
    try:
        job = Job.fetch(job_of(redis, article_id), connection=redis)
    except NoSuchJobError:  # it has just finished
        return None
    worker = Worker.find_by_key(f"{Worker.redis_worker_namespace_prefix}{job.worker_name}", connection=redis)
    if worker is None:
        return None
    try:
        parent = psutil.Process(worker.pid)
        # RQ puts the work-horse in a process group of its own; the scheduler stays in the worker's.
        horses = [c for c in parent.children() if os.getpgid(c.pid) == c.pid]
    except (psutil.NoSuchProcess, ProcessLookupError):
        return None
    return (parent, horses[0]) if len(horses) == 1 else None


def kill(kind: str, parent: psutil.Process, horse: psutil.Process) -> bool:
    """SIGKILL the horse, or the parent and then the rest of its tree; False if the horse was gone."""
    try:
        tree = [horse] if kind == "horse" else [parent, *parent.children(recursive=True)]
        if not horse.is_running():
            return False
    except psutil.NoSuchProcess:
        return False
    for process in tree:  # the parent first, so that it cannot react to the others' death
        try:
            process.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    return True


def attempts(redis: Redis, article_id: str) -> int:
    return int(redis.hget(article_key(article_id), "attempts") or 0)


def worker_logs(tmp_path: Path) -> str:
    return "".join(log.read_text(errors="replace") for log in sorted(tmp_path.glob("worker-*.log")))


def extraction_seconds(store: ArticleStore, article_id: str) -> float:
    """How long the article's last extraction took, as the store recorded it."""
    article = store.get(article_id)
    started, finished = (datetime.fromisoformat(t) for t in (article.started_at, article.finished_at))
    return (finished - started).total_seconds()


def timed(start: Callable[[], object]) -> float:
    began = time.monotonic()
    start()
    return time.monotonic() - began


def test_a_lone_worker_killed_with_its_scheduler_is_replaced_in_time(config, client, start_worker, queue, redis_conn, tmp_path):
    """The one worker, holder of the scheduler lock, dies mid-extraction; its replacement
    releases the dead scheduler's lock and retries the article instead of waiting for RQ's
    61-second lock to expire."""
    first = start_worker()
    response = client.post("/v1/articles", data=article_text(TRIALS), content_type="text/plain")
    article_id = response.get_json()["id"]
    poll(lambda: statuses(redis_conn, [article_id])[article_id] == "running", bool, 60, "the extraction", interval=0.01)
    # The scheduler process registers its pid after the worker has taken the lock and forked
    # it; on a busy machine the extraction can be running first.
    scheduler_pid = poll(lambda: queue.scheduler_pid, bool, 60, "the scheduler's registration")
    assert scheduler_pid in [c.pid for c in psutil.Process(first.pid).children()], "it holds the lock"
    parent = psutil.Process(first.pid)
    kill("parent", parent, next(c for c in parent.children() if os.getpgid(c.pid) == c.pid))
    killed_at = time.monotonic()
    start_worker()

    poll(lambda: statuses(redis_conn, [article_id])[article_id] == DONE, bool, RECOVERY_TIMEOUT, "the retried extraction")
    print(f"\ndone {time.monotonic() - killed_at:.1f}s after the kill (replacement start-up included)")
    assert attempts(redis_conn, article_id) == 2
    logs = worker_logs(tmp_path)
    assert f"article {article_id}: {STALE_WORKER_PATH}" in logs
    assert LOCK_RELEASED in logs, "the retry waited for the dead scheduler's lock to expire"


def test_killed_workers_lose_no_article(config, client, start_worker, queue: Queue, redis_conn: Redis, store, tmp_path):
    started = time.monotonic()
    start_up = max(timed(start_worker) for _ in range(WORKERS))
    trials: dict[str, Trial] = {}
    for n in range(TRIALS):
        response = client.post("/v1/articles", data=article_text(n), content_type="text/plain")
        assert response.status_code == 202, response.get_json()
        trials[response.get_json()["id"]] = Trial(response.get_json()["id"])
    ids = list(trials)

    kills = 0
    final = statuses(redis_conn, ids)
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline and not all(s in (DONE, FAILED) for s in final.values()):
        now = time.monotonic()
        for article_id, status in final.items():
            trial = trials[article_id]
            if status != "running" and trial.killed_at and not trial.requeued_at:
                trial.requeued_at = now
            if status == DONE and trial.killed_at and not trial.done_at:
                trial.done_at = now
            if status != "running" or trial.killed_at:
                continue
            processes = running_processes(redis_conn, article_id)
            kind = KINDS[kills % len(KINDS)]
            if processes is None or not kill(kind, *processes):
                continue
            trial.kind, trial.killed_at = kind, time.monotonic()
            kills += 1
            if kind == "parent":
                start_worker(wait=False)
        time.sleep(POLL_INTERVAL)
        final = statuses(redis_conn, ids)

    jobs = ExtractionJobs(redis_conn, config)
    killed = [t for t in trials.values() if t.killed_at]
    by_kind = {kind: sum(1 for t in killed if t.kind == kind) for kind in KINDS}
    pending = [i for i, s in final.items() if s in PENDING]
    lost = [i for i, s in final.items() if s is None] + [i for i in pending if not jobs.is_alive(job_of(redis_conn, i))]
    stuck = [i for i in pending if i not in lost]
    failed = [i for i, s in final.items() if s == FAILED]
    retried = sum(1 for t in killed if attempts(redis_conn, t.article_id) >= 2)
    longest_extraction = max((extraction_seconds(store, i) for i, s in final.items() if s == DONE), default=0.0)
    step = max(longest_extraction, start_up)
    requeue = {t.article_id: t.requeued_at - t.killed_at for t in killed if t.requeued_at}
    recovery = {t.article_id: t.done_at - t.killed_at for t in killed if t.done_at}
    print(
        f"\n{len(killed)} trials ({by_kind['parent']} parent, {by_kind['horse']} horse kills): "
        f"{sum(s == DONE for s in final.values())} done, {len(failed)} failed, {len(stuck)} stuck, "
        f"{len(lost)} lost; {retried} extracted again after their kill; "
        f"back in the queue at most {max(requeue.values(), default=0.0):.1f}s after a kill "
        f"(bound {config.stale_after} s + {step:.1f}s: longest extraction {longest_extraction:.1f}s, "
        f"worker start-up {start_up:.1f}s); the slowest done {max(recovery.values(), default=0.0):.1f}s "
        f"after its kill; wall {time.monotonic() - started:.1f}s"
    )
    assert len(killed) == TRIALS, f"only {len(killed)} articles were caught running"
    assert not stuck and not lost and not failed, final
    assert retried == len(killed), "every killed extraction was lost and run again"
    logs = worker_logs(tmp_path)
    paths = {"parent": STALE_WORKER_PATH, "horse": HORSE_DEATH_PATH}
    wrong_path = [t for t in killed if f"article {t.article_id}: {paths[t.kind]}" not in logs]
    assert not wrong_path, f"not put back by the path of their kill: {wrong_path}"
    late = {i: round(s, 1) for i, s in requeue.items() if s > config.stale_after + step}
    assert len(requeue) == len(killed) and not late, late
    # The last job's own bookkeeping ends a moment after its article is done.
    poll(lambda: rq_leftovers(queue), lambda left: not left, RQ_SETTLE_TIMEOUT, "RQ's queue and registries")
