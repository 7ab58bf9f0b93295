"""The worker process: pipeline preloaded, and recovery when workers are killed with SIGKILL."""

from __future__ import annotations

import dataclasses
import gc
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psutil
from rq import Queue, Worker
from rq.job import Job

from service.app import create_app
from service.config import Config
from service.store import ArticleStore
from support.fixtures_api import SHORT_TEXT
from support.seeds import SEED_TEXT
from support.waiting import poll
from workers.pipeline import get_extractor
from workers.liveness import Liveness
from workers.worker import COMMAND_POLL, ExtractionWorker, prepare_pipeline

LONG_TEXT = "\n\n".join([SEED_TEXT] * 25)  # a few seconds of extraction: time to kill its worker
STALE_WORKER_REASON = "The worker running the extraction stopped responding."  # workers.jobs
RECOVERY_TIMEOUT = 180.0  # a safety net; the bounds asserted are the configured ones plus measured start-up
# A worker with the pipeline loaded maps about 400 MiB; a short text needs a few MiB more,
# and 100,000 characters at the densest the parser accepts need far more within seconds.
MEMORY_BOUND_MB = 550
HUNGRY_TEXT = "abcd, " * 16_000
RQ_COMMAND_POLL = 60.0  # how long RQ's own listener waits per poll of the command channel


def submit(config: Config, text: str) -> str:
    return create_app(config).test_client().post("/v1/articles", data=text, content_type="text/plain").get_json()["id"]


def running_job(store: ArticleStore, queue: Queue, article_id: str) -> Job:
    poll(lambda: store.get(article_id).status == "running", bool, 60, "the extraction to start", interval=0.01)
    return Job.fetch(store.get(article_id).job_id, connection=queue.connection)


def worker_pid(queue: Queue, job: Job) -> int:
    worker = Worker.find_by_key(f"{Worker.redis_worker_namespace_prefix}{job.worker_name}", connection=queue.connection)
    return worker.pid


def horse_of(worker: int) -> psutil.Process:
    """The worker's work-horse: its one child in a process group of its own (the scheduler stays
    in the worker's group, and is known by it before the scheduler has registered its pid)."""
    children = [c for c in psutil.Process(worker).children() if os.getpgid(c.pid) == c.pid]
    assert len(children) == 1, children
    return children[0]


def dead(process: psutil.Process) -> bool:
    """Whether ``process`` has died: a zombie, or already reaped by its parent (the worker may
    reap its horse before the test looks)."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_run_worker_loads_the_pipeline_before_working(config, work_off):
    """Loaded in the worker process itself, so forked work-horses inherit it."""
    get_extractor.cache_clear()
    work_off()
    assert get_extractor.cache_info().currsize == 1


def pipeline_load_seconds() -> float:
    """What loading the pipeline costs a fresh process."""
    code = (
        "import time; t = time.monotonic(); from workers.pipeline import get_extractor; "
        "get_extractor(); print(time.monotonic() - t)"
    )
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True).stdout)


def test_forked_work_horses_do_not_load_the_pipeline_again(config, start_worker, store):
    load_seconds = pipeline_load_seconds()
    start_worker()
    ids = [submit(config, f"{SHORT_TEXT} Attempt {n}.") for n in range(3)]
    poll(lambda: all(store.get(i).status == "done" for i in ids), bool, 60, "the extractions")
    for article_id in ids:
        article = store.get(article_id)
        started, finished = (datetime.fromisoformat(t) for t in (article.started_at, article.finished_at))
        spent = (finished - started).total_seconds()
        assert spent < load_seconds / 2, f"a job took {spent:.2f}s; loading the pipeline takes {load_seconds:.2f}s"


def test_killed_work_horse_is_retried_and_ends_done(config, start_worker, store, queue):
    start_worker()
    article_id = submit(config, LONG_TEXT)
    job = running_job(store, queue, article_id)
    horse_of(worker_pid(queue, job)).send_signal(signal.SIGKILL)
    poll(lambda: store.get(article_id).status == "done", bool, 60, "the retried extraction")
    article = store.get(article_id)
    assert article.attempts == 2


def test_one_work_horse_runs_job_after_job(config, start_worker, store):
    """The horse outlives its job (workers.horse): consecutive articles are extracted by one process."""
    worker = start_worker()
    horses = []
    for n in range(3):
        article_id = submit(config, f"{SHORT_TEXT} Round {n}.")
        poll(lambda: store.get(article_id).status == "done", bool, 60, "the extraction")
        horses.append(horse_of(worker.pid).pid)
    assert len(set(horses)) == 1 and horses[0] != worker.pid, horses


def test_a_work_horse_killed_between_jobs_is_replaced_and_the_next_job_runs_once(config, start_worker, store):
    worker = start_worker()
    first = submit(config, f"{SHORT_TEXT} Before the kill.")
    poll(lambda: store.get(first).status == "done", bool, 60, "the first extraction")
    idle = horse_of(worker.pid)
    idle.send_signal(signal.SIGKILL)
    poll(lambda: dead(idle), bool, 30, "the killed horse to die")
    second = submit(config, f"{SHORT_TEXT} After the kill.")
    poll(lambda: store.get(second).status == "done", bool, 60, "the second extraction")
    assert store.get(second).attempts == 1, "the job was sent to the dead horse and retried"
    assert horse_of(worker.pid).pid != idle.pid
    assert not psutil.pid_exists(idle.pid), "the dead horse was not reaped"


def started_within(start) -> float:
    """Start a worker and return the seconds it took to register: what start-up costs the machine now."""
    began = time.monotonic()
    start()
    return time.monotonic() - began


def worker_logs(tmp_path: Path) -> str:
    return "".join(log.read_text(errors="replace") for log in sorted(tmp_path.glob("worker-*.log")))


def test_killed_worker_article_is_retried_by_another_worker(config, start_worker, store, queue, tmp_path):
    """kill -9 of the worker and its work-horse mid-extraction; another worker's stale-worker
    path puts the article back within the configured bound."""
    start_worker()
    start_up = started_within(start_worker)
    article_id = submit(config, LONG_TEXT)
    job = running_job(store, queue, article_id)
    victim = worker_pid(queue, job)
    horse = horse_of(victim)
    os.kill(victim, signal.SIGKILL)
    horse.kill()
    killed_at = time.monotonic()

    poll(lambda: store.get(article_id).status != "running", bool, RECOVERY_TIMEOUT, "the article to leave running", interval=0.01)
    left_running_after = time.monotonic() - killed_at
    poll(lambda: store.get(article_id).status == "done", bool, RECOVERY_TIMEOUT, "the retried extraction")
    print(f"left running {left_running_after:.1f}s after the kill (bound {config.stale_after} s + {start_up:.1f}s), "
          f"done {time.monotonic() - killed_at:.1f}s after")
    assert store.get(article_id).attempts == 2
    assert f"article {article_id}: {STALE_WORKER_REASON} Retrying" in worker_logs(tmp_path), "the stale-worker path"
    assert left_running_after <= config.stale_after + start_up


def test_killed_worker_without_retries_left_ends_failed(config, start_worker, store, queue):
    """The whole worker dies, no retries are configured: a new worker's stale-worker path marks
    the article failed within the configured bound of its start."""
    once = dataclasses.replace(config, job_retries=0)
    first = start_worker(once)
    article_id = submit(once, LONG_TEXT)
    running_job(store, queue, article_id)
    tree = [first.pid] + [c.pid for c in psutil.Process(first.pid).children(recursive=True)]
    for pid in tree:
        os.kill(pid, signal.SIGKILL)
    first.wait(10)
    killed_at = time.monotonic()
    start_up = started_within(lambda: start_worker(once))

    poll(lambda: store.get(article_id).status == "failed", bool, RECOVERY_TIMEOUT, "the article to fail", interval=0.01)
    failed_after = time.monotonic() - killed_at
    print(f"failed {failed_after:.1f}s after the kill (bound {once.stale_after} s + start-up {start_up:.1f}s)")
    article = store.get(article_id)
    assert article.problem["type"] == "/problems/extraction-failed"
    assert STALE_WORKER_REASON in article.problem["detail"]
    assert article.attempts == 1
    assert failed_after <= once.stale_after + start_up


def test_an_extraction_past_the_memory_bound_fails_and_the_same_worker_goes_on(config, start_worker, store, queue):
    bounded = dataclasses.replace(config, job_memory_mb=MEMORY_BOUND_MB)
    worker = start_worker(bounded)
    hungry = submit(bounded, HUNGRY_TEXT)
    poll(lambda: store.get(hungry).status == "failed", timeout=120, what="the hungry extraction to fail")
    article = store.get(hungry)
    assert article.attempts == 1
    assert article.problem["type"] == "/problems/extraction-failed"
    assert f"more memory than a job may use ({MEMORY_BOUND_MB} MiB)" in article.problem["detail"]
    assert queue.count == 0 and queue.scheduled_job_registry.count == 0, "not retried"

    short = submit(bounded, SHORT_TEXT)
    poll(lambda: store.get(short).status == "done", timeout=60, what="the next extraction")
    assert worker.poll() is None, "the worker lives on"
    assert [w.pid for w in Worker.all(queue=queue)] == [worker.pid], "one worker did both"


def test_the_pipeline_is_warm_and_frozen_before_the_first_fork(config, work_off):
    """Work-horses inherit a warmed-up pipeline whose objects the collector leaves alone (no copy-on-write)."""
    work_off()
    assert gc.get_freeze_count() > 0
    frozen = gc.get_freeze_count()
    prepare_pipeline()
    assert gc.get_freeze_count() == frozen, "warmed up and frozen once"


def test_a_stopping_worker_ends_its_command_listener_within_a_poll(redis_conn):
    """The listener has read the unsubscription before it is stopped: it then waits a whole
    poll for a subscription that never comes, and the stopping worker waits for it."""
    worker = ExtractionWorker(["claimwire-listener"], connection=redis_conn, liveness=Liveness.from_stale_after(8))
    worker.subscribe()
    assert worker.pubsub_thread.sleep_time == COMMAND_POLL
    worker.pubsub.unsubscribe()
    poll(lambda: not worker.pubsub.subscribed, timeout=10, what="the listener to read the unsubscription")
    started = time.monotonic()
    worker.unsubscribe()
    stopped_after = time.monotonic() - started
    assert not worker.pubsub_thread.is_alive()
    # Which poll the stop waited for (1 s or RQ's 60), not a speed: no load stretches one to thirty.
    assert stopped_after < RQ_COMMAND_POLL / 2, f"the worker waited {stopped_after:.1f}s for its listener"
