"""The extraction queue: enqueueing jobs, and telling whether a job is still alive.

The API refers to the job function by its dotted path, so the web processes never
import the worker's code. Each job gets the configured timeout and an RQ ``Retry``
with exponential backoff; the worker's failure hooks turn what RQ decides (retry or
give up) into the article's status.

A job is data in Redis that names a function for a worker to import and call. Jobs are
serialised as JSON, never pickle (unpickling runs code of the pickle's choosing), and
:data:`JOB_FUNCTIONS` and :data:`JOB_CALLBACKS` are the only functions a worker calls
by name (:class:`workers.trusted_jobs.TrustedJob`): anyone else's job fails unrun.
"""

from __future__ import annotations

from redis import Redis
from redis.client import Pipeline
from rq import Callback, Queue, Retry
from rq.exceptions import InvalidJobOperation
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from service.config import Config
from service.logs import request_id_var

EXTRACT_JOB = "workers.jobs.extract_article"
FAILURE_CALLBACK = "workers.jobs.record_failure"
# Webhook deliveries (:mod:`service.webhook_events`), on a queue of their own.
DELIVER_JOB = "workers.deliveries.deliver_webhook"
DELIVERY_FAILURE_CALLBACK = "workers.deliveries.record_delivery_failure"
# The allow-lists: every function a worker may call because a job in Redis names it.
JOB_FUNCTIONS: frozenset[str] = frozenset({EXTRACT_JOB, DELIVER_JOB})
JOB_CALLBACKS: frozenset[str] = frozenset({FAILURE_CALLBACK, DELIVERY_FAILURE_CALLBACK})
JOB_SERIALIZER = JSONSerializer
RETRY_FIRST_DELAY = 2
RETRY_BACKOFF_FACTOR = 4
RETRY_MAX_DELAY = 300
REQUEST_ID_META = "request_id"
ENDED_STATUSES = frozenset({JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED})


def retry_intervals(retries: int) -> list[int]:
    """Seconds to wait before each retry: 2, 8, 32, ... capped at five minutes."""
    return [
        min(RETRY_FIRST_DELAY * RETRY_BACKOFF_FACTOR**attempt, RETRY_MAX_DELAY)
        for attempt in range(retries)
    ]


def job_meta() -> dict[str, str]:
    """What the job carries for the worker's log lines: the id of the request that queued it."""
    request_id = request_id_var.get()
    return {REQUEST_ID_META: request_id} if request_id else {}


class ExtractionJobs:
    """The RQ queue ``config.queue_name`` as the article store uses it."""

    def __init__(self, redis: Redis, config: Config) -> None:
        self.config = config
        self.queue = Queue(
            config.queue_name, connection=redis, default_timeout=config.job_timeout, serializer=JOB_SERIALIZER
        )

    def enqueue(self, pipeline: Pipeline, article_id: str) -> str:
        """Queue the extraction of one article inside the caller's transaction; returns the job id."""
        retries = self.config.job_retries
        retry = Retry(max=retries, interval=retry_intervals(retries), enqueue_at_front=True) if retries else None
        job = self.queue.enqueue_call(
            EXTRACT_JOB,
            args=(article_id,),
            timeout=self.config.job_timeout,
            result_ttl=0,  # the result lives under the service's own keys
            failure_ttl=self.config.result_ttl,
            description=f"extract claims of article {article_id}",
            retry=retry,
            on_failure=Callback(FAILURE_CALLBACK),
            meta=job_meta(),
            pipeline=pipeline,
        )
        return job.id

    def is_full(self) -> bool:
        """Whether ``CLAIMWIRE_MAX_QUEUE_DEPTH`` jobs already wait: back-pressure for the API."""
        return self.queue.count >= self.config.max_queue_depth

    def is_alive(self, job_id: str) -> bool:
        """False when the job is gone or ended: an article still waiting on it would wait forever."""
        try:
            status = Job(job_id, connection=self.queue.connection).get_status()
        except InvalidJobOperation:
            return False
        return status not in ENDED_STATUSES
