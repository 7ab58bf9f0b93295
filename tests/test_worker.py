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

import psutil
from rq import Queue, Worker
from rq.job import Job

from fixtures_api import SEED_TEXT, SHORT_TEXT, wait_until
from service.app import create_app
from service.config import Config
from service.store import ArticleStore
from workers.pipeline import get_extractor
from workers.worker import prepare_pipeline

LONG_TEXT = "\n\n".join([SEED_TEXT] * 25)  # a few seconds of extraction: time to kill its worker
SLACK = 6.0  # seconds on top of the configured bound, for a loaded 2-core machine


def submit(config: Config, text: str) -> str:
    return create_app(config).test_client().post("/v1/articles", data=text, content_type="text/plain").get_json()["id"]


def running_job(store: ArticleStore, queue: Queue, article_id: str) -> Job:
    wait_until(lambda: store.get(article_id).status == "running", 60, "the extraction to start", interval=0.01)
    return Job.fetch(store.get(article_id).job_id, connection=queue.connection)


def worker_pid(queue: Queue, job: Job) -> int:
    worker = Worker.find_by_key(f"{Worker.redis_worker_namespace_prefix}{job.worker_name}", connection=queue.connection)
    return worker.pid


def horse_of(worker: int, queue: Queue) -> psutil.Process:
    """The work-horse RQ forked for the current job (the worker's other child is the scheduler)."""
    children = [c for c in psutil.Process(worker).children() if c.pid != queue.scheduler_pid]
    assert len(children) == 1, children
    return children[0]


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
    wait_until(lambda: all(store.get(i).status == "done" for i in ids), 60, "the extractions")
    for article_id in ids:
        article = store.get(article_id)
        started, finished = (datetime.fromisoformat(t) for t in (article.started_at, article.finished_at))
        spent = (finished - started).total_seconds()
        assert spent < load_seconds / 2, f"a job took {spent:.2f}s; loading the pipeline takes {load_seconds:.2f}s"


def test_killed_work_horse_is_retried_and_ends_done(config, start_worker, store, queue):
    start_worker()
    article_id = submit(config, LONG_TEXT)
    job = running_job(store, queue, article_id)
    horse_of(worker_pid(queue, job), queue).send_signal(signal.SIGKILL)
    wait_until(lambda: store.get(article_id).status == "done", 60, "the retried extraction")
    article = store.get(article_id)
    assert article.attempts == 2


def test_killed_worker_article_is_retried_by_another_worker(config, start_worker, store, queue):
    """kill -9 of the worker and its work-horse mid-extraction; another worker takes over."""
    start_worker()
    start_worker()
    article_id = submit(config, LONG_TEXT)
    job = running_job(store, queue, article_id)
    victim = worker_pid(queue, job)
    horse = horse_of(victim, queue)
    os.kill(victim, signal.SIGKILL)
    horse.kill()
    killed_at = time.monotonic()

    bound = config.stale_after + SLACK
    wait_until(lambda: store.get(article_id).status != "running", bound, "the article to leave running")
    left_running_after = time.monotonic() - killed_at
    wait_until(lambda: store.get(article_id).status == "done", 60, "the retried extraction")
    article = store.get(article_id)
    assert article.attempts == 2
    assert left_running_after <= bound
    print(f"left running {left_running_after:.1f}s after the kill, done {time.monotonic() - killed_at:.1f}s after")


def test_killed_worker_without_retries_left_ends_failed(config, start_worker, store, queue):
    """The whole worker dies, no retries are configured: a new worker marks the article failed."""
    once = dataclasses.replace(config, job_retries=0)
    first = start_worker(once)
    article_id = submit(once, LONG_TEXT)
    running_job(store, queue, article_id)
    tree = [first.pid] + [c.pid for c in psutil.Process(first.pid).children(recursive=True)]
    for pid in tree:
        os.kill(pid, signal.SIGKILL)
    first.wait(10)
    killed_at = time.monotonic()
    start_worker(once)

    wait_until(lambda: store.get(article_id).status == "failed", once.stale_after + SLACK, "the article to fail")
    article = store.get(article_id)
    assert article.problem["type"] == "/problems/extraction-failed"
    assert "stopped responding" in article.problem["detail"]
    assert article.attempts == 1
    print(f"failed {time.monotonic() - killed_at:.1f}s after the kill (worker start-up included)")


def test_the_pipeline_is_warm_and_frozen_before_the_first_fork(config, work_off):
    """Work-horses inherit a warmed-up pipeline whose objects the collector leaves alone (no copy-on-write)."""
    work_off()
    assert gc.get_freeze_count() > 0
    frozen = gc.get_freeze_count()
    prepare_pipeline()
    assert gc.get_freeze_count() == frozen, "warmed up and frozen once"
