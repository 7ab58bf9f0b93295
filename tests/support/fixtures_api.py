"""Fixtures for the API, job and worker tests: an app on the test Redis, real RQ workers.

Import the fixtures a test module needs from here; ``redis_url`` and ``redis_conn``
(flushed before each test) come from conftest.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from flask import Flask
from redis import Redis
from rq import Queue, Worker

from service.app import create_app
from service.config import Config, config_environment
from service.queueing import ExtractionJobs
from service.store import ArticleStore, article_key, connect
from support import REPO
from support.openapi_check import CheckedClient
from support.waiting import poll
from workers.worker import run_worker

SHORT_TEXT = "The minister said that taxes would rise next year."
WORKER_START_TIMEOUT = 120.0  # a safety net: loading the pipeline on a busy machine
WORKER_STOP_TIMEOUT = 15.0

WorkerFactory = Callable[..., subprocess.Popen]


def config_env(config: Config) -> dict[str, str]:
    """The environment that makes Config.from_env() in a child process equal ``config``."""
    return {**os.environ, **config_environment(config), "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def config(redis_url: str, redis_conn: Redis) -> Config:
    """The environment's configuration on the test Redis, with a queue of this test's own."""
    return dataclasses.replace(
        Config.from_env(),
        redis_url=redis_url,
        queue_name=f"claimwire-test-{uuid.uuid4().hex[:8]}",
        extract_wait=10.0,
        stale_after=8,
    )


def checked_app(config: Config) -> Flask:
    """The app on ``config``, whose test client checks every response against openapi.yaml."""
    app = create_app(config)
    app.test_client_class = CheckedClient
    return app


@pytest.fixture
def app(config: Config) -> Flask:
    return checked_app(config)


@pytest.fixture
def client(app: Flask) -> CheckedClient:
    return app.test_client()


@pytest.fixture
def store(config: Config) -> ArticleStore:
    return ArticleStore(connect(config.redis_url), config.result_ttl)


@pytest.fixture
def queue(config: Config) -> Queue:
    return ExtractionJobs(connect(config.redis_url), config).queue


@pytest.fixture
def work_off(config: Config) -> Callable[[], None]:
    """Run a real worker in this process in burst mode: it works off the queue, then returns."""
    return burst_worker(config)


def burst_worker(config: Config) -> Callable[[], None]:
    """A real worker with ``config``, run in this process in burst mode when called."""

    def work() -> None:
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            run_worker(config, burst=True)
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)

    return work


@pytest.fixture
def start_worker(config: Config, tmp_path: Path) -> Iterator[WorkerFactory]:
    """Start ``run_worker`` in a child process and wait until it listens; all are stopped at teardown."""
    started: list[subprocess.Popen] = []

    def start(cfg: Config | None = None, wait: bool = True) -> subprocess.Popen:
        """One more worker; with ``wait`` (the default), return once it has registered on the queue."""
        proc = spawn_worker("workers.worker.run_worker", cfg or config, tmp_path / f"worker-{len(started)}.log", wait)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        stop_process_tree(proc)


def spawn_worker(entry: str, config: Config, log: Path, wait: bool = True) -> subprocess.Popen:
    """Run ``entry`` (``module.function(config, name=...)``) in a child process logging to ``log``.

    The worker gets a name of its own, and with ``wait`` this returns once that name has
    registered: workers coming and going meanwhile (a killed one aging out) cannot confuse
    the wait, as a count of live workers would be.
    """
    module, function = entry.rsplit(".", 1)
    name = f"test-worker-{uuid.uuid4().hex[:12]}"
    code = (
        f"import sys; from service.config import Config; from {module} import {function}; "
        f"{function}(Config.from_env(), name=sys.argv[1])"
    )
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, name],
            env=config_env(config),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,  # its own process group, which its scheduler process shares
        )
    if wait:
        redis = connect(config.redis_url)
        key = f"{Worker.redis_worker_namespace_prefix}{name}"
        poll(lambda: redis.exists(key), bool, WORKER_START_TIMEOUT, f"worker {name} to register", proc, log)
    return proc


def stop_process_tree(proc: subprocess.Popen, stop_signal: signal.Signals = signal.SIGTERM) -> None:
    """Send ``stop_signal`` (SIGTERM: a worker finishes its job) and wait; then SIGKILL whatever is
    left of its process group and children.

    The group catches its scheduler process even when a test killed the worker itself.
    """
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    if proc.poll() is None:
        proc.send_signal(stop_signal)
        try:
            proc.wait(WORKER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(WORKER_STOP_TIMEOUT)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


@contextmanager
def broken_published_at(redis: Redis, article_id: str) -> Iterator[None]:
    """Corrupt the stored publication time, so that extracting this article fails for real.

    The original is put back afterwards: the corrupt value would (rightly) break the
    spec check of every response that shows the article.
    """
    key = article_key(article_id)
    original = redis.hget(key, "published_at")
    redis.hset(key, "published_at", "not a time")
    yield
    redis.hset(key, "published_at", original)


def rq_leftovers(queue: Queue) -> dict[str, int]:
    """What is left in the queue and its registries, by place; empty once all jobs are over."""
    counts = {
        "queued": queue.count,
        "started": queue.started_job_registry.count,
        "scheduled": queue.scheduled_job_registry.count,
        "failed": queue.failed_job_registry.count,
    }
    return {place: n for place, n in counts.items() if n}

