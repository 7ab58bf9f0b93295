"""Prometheus metrics, correct across gunicorn processes, RQ workers and their work-horses.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``claimwire serve`` and ``claimwire api`` set a
private one when it is not), every process writes its samples to files there and
``/metrics`` sums them (prometheus_client's multiprocess mode; gunicorn's ``child_exit``
marks a dead process). An RQ work-horse writes to files named after its worker, not its
own pid: horses of one worker run one after the other, and one file set per job would
pile up forever. Queue depth and the age of the oldest queued job are read from Redis at
scrape time, so they are never stale. This module must be imported after the variable
is set: prometheus_client chooses how to store values when it is imported.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import socket
from collections.abc import Iterable
from datetime import datetime, timezone
from functools import lru_cache

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.utils import utcparse

from service.metrics_dir import MULTIPROC_ENV, forget_empty_setting

forget_empty_setting()  # before prometheus_client is imported: it reads the variable once

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, values  # noqa: E402
from prometheus_client import REGISTRY as PROCESS_REGISTRY  # noqa: E402
from prometheus_client.core import GaugeMetricFamily  # noqa: E402
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead  # noqa: E402
from prometheus_client.registry import Collector  # noqa: E402

CONTENT_TYPE = CONTENT_TYPE_LATEST
# How many jobs at the head of the queue are looked at for the oldest (retries go to the front).
OLDEST_SCAN = 100
JOB_OUTCOMES = ("done", "failed", "retried", "skipped")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
EXTRACTION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
WORDS_PER_SECOND_BUCKETS = (50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000)

_worker_pid: int | None = None


_HOST = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())


def _process_identifier() -> str:
    """This process's file suffix: host and pid, or for an RQ work-horse, its worker's pid plus ``h``.

    The host name keeps apart containers that share the directory (their pids can be equal).
    """
    pid = os.getpid()
    return f"{_HOST}-{_worker_pid}h" if _worker_pid is not None and pid != _worker_pid else f"{_HOST}-{pid}"


if os.environ.get(MULTIPROC_ENV):
    values.ValueClass = values.MultiProcessValue(process_identifier=_process_identifier)

REQUESTS = Counter("claimwire_http_requests", "HTTP requests answered, by route template and status.", ["method", "route", "status"])
LATENCY = Histogram(
    "claimwire_http_request_duration_seconds", "Time to answer a request, by route template.", ["method", "route"], buckets=LATENCY_BUCKETS
)
JOBS = Counter("claimwire_jobs", "Extraction jobs ended, by outcome.", ["outcome"])
EXTRACTION_SECONDS = Histogram("claimwire_extraction_seconds", "Time the pipeline took for one article.", buckets=EXTRACTION_BUCKETS)
WORDS_PER_SECOND = Histogram(
    "claimwire_extraction_words_per_second", "Words of an article extracted per second.", buckets=WORDS_PER_SECOND_BUCKETS
)
REDIS_ERRORS = Counter("claimwire_redis_errors", "Redis errors met, by process kind.", ["process"])
WEBHOOK_DELIVERIES = Counter("claimwire_webhook_deliveries", "Webhook deliveries, by outcome.", ["outcome"])


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    requests, latency = _request_series(method, route, status)
    requests.inc()
    latency.observe(seconds)


@lru_cache(maxsize=1024)
def _request_series(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    """A request's counter and histogram children, made once per label set: ``labels()``
    checks the labels and takes a lock on every call."""
    return REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route)


def observe_job(outcome: str) -> None:
    JOBS.labels(outcome).inc()


def observe_extraction(seconds: float, words: int) -> None:
    EXTRACTION_SECONDS.observe(seconds)
    if seconds > 0:
        WORDS_PER_SECOND.observe(words / seconds)


def observe_redis_error(process: str) -> None:
    REDIS_ERRORS.labels(process).inc()


def observe_webhook_delivery(outcome: str) -> None:
    """For webhook deliveries (``delivered``, ``failed``, ``gave_up``) once they exist."""
    WEBHOOK_DELIVERIES.labels(outcome).inc()


def mark_worker_process() -> None:
    """Called by an RQ worker before it forks work-horses (see the module docstring)."""
    global _worker_pid
    _worker_pid = os.getpid()
    for outcome in JOB_OUTCOMES:  # the label sets exist in the worker's files before any fork
        JOBS.labels(outcome)


def child_exit(_server: object, worker: object) -> None:
    """gunicorn's ``child_exit`` hook: a dead process's live gauges no longer count."""
    if os.environ.get(MULTIPROC_ENV):
        mark_process_dead(worker.pid)  # type: ignore[attr-defined]


class QueueCollector(Collector):
    """Queue depth, retries waiting and the age of the oldest queued job, read at scrape time."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            depth, scheduled, oldest = self._read()
        except RedisError:
            observe_redis_error("api")
            yield GaugeMetricFamily("claimwire_redis_up", "Whether Redis answered this scrape.", value=0)
            return
        yield GaugeMetricFamily("claimwire_redis_up", "Whether Redis answered this scrape.", value=1)
        yield GaugeMetricFamily("claimwire_queue_depth", "Extraction jobs waiting for a worker.", value=depth)
        yield GaugeMetricFamily("claimwire_queue_scheduled", "Jobs waiting for a retry.", value=scheduled)
        yield GaugeMetricFamily(
            "claimwire_queue_oldest_age_seconds",
            "Seconds the oldest job waiting for a worker has waited (0 when none waits).",
            value=oldest,
        )

    def _read(self) -> tuple[int, int, float]:
        redis: Redis = self.queue.connection
        job_ids = redis.lrange(self.queue.key, 0, OLDEST_SCAN - 1)
        with redis.pipeline(transaction=False) as pipe:
            pipe.llen(self.queue.key)
            pipe.zcard(self.queue.scheduled_job_registry.key)
            for job_id in job_ids:
                pipe.hget(f"rq:job:{job_id.decode()}", "enqueued_at")
            depth, scheduled, *enqueued = pipe.execute()
        now = datetime.now(timezone.utc)
        ages = [(now - utcparse(raw.decode())).total_seconds() for raw in enqueued if raw]
        return depth, scheduled, max(ages, default=0.0)


def exposition(queue: Queue) -> bytes:
    """The Prometheus text of every process's samples plus the queue's gauges."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = PROCESS_REGISTRY
    queue_registry = CollectorRegistry()
    queue_registry.register(QueueCollector(queue))
    return generate_latest(registry) + generate_latest(queue_registry)


def caller_may_read(remote_addr: str | None, forwarded: bool, authorization: str | None, allow: Iterable[str], token: str | None) -> bool:
    """Whether a scrape is allowed: the metrics token, or a direct caller from an allowed network.

    A request that came through a proxy (``Forwarded``/``X-Forwarded-For``) is never trusted by
    address: behind a proxy on the same host every caller would look like loopback.
    """
    if token and authorization and hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return True
    if forwarded or not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in allow)
