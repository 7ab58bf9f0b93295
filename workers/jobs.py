"""The RQ job that extracts one article, and the hooks that record its failures.

Transient errors (Redis trouble, a dead worker or work-horse) are raised so that RQ
retries the job with backoff. A failure of the text itself is permanent for this article
and extractor version: the pipeline raised, the extraction ran past the job timeout, or it
needed more memory than ``CLAIMWIRE_JOB_MEMORY_MB`` (:mod:`workers.memory`). The article
is then marked failed at once, never retried, and the failure is cached like a result.
RQ reports every failure it handles to :func:`record_failure` (a raised error, a timeout,
or a job abandoned by a dead worker) or to :func:`record_horse_death` (the work-horse
process died); they put the article back to ``queued`` when RQ retries, else mark it failed.

An article submitted by URL alone is fetched first (:mod:`workers.page_fetch`). Settling
an article (done or failed) also queues its owners' webhook deliveries, in the same
transaction (:mod:`service.webhook_events`).
"""

from __future__ import annotations

import logging
import os
import time
from types import TracebackType
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import get_current_job
from rq.exceptions import AbandonedJobError
from rq.job import Job
from rq.timeouts import JobTimeoutException
from rq.utils import now

from service import claims_document, metrics
from service.problems import EXTRACTION_FAILED, problem_body
from service.store import ArticleStore, connect
from service.webhook_events import WebhookEvents
from workers.claims import dump_extraction
from workers.memory import memory_limit_mb
from workers.page_fetch import fetch_article_text
from workers.pipeline import get_extractor
from workers.worker_config import worker_config

log = logging.getLogger(__name__)

# Raised on to RQ: Redis trouble is retried, a timeout is settled by record_failure.
RAISED_ERRORS: tuple[type[BaseException], ...] = (RedisError, JobTimeoutException)
MAX_DETAIL_CHARS = 500


def extract_article(article_id: str) -> None:
    """Extract the claims of a stored article and cache them under the service's keys."""
    job = get_current_job()
    job_id = job.id if job else None
    store = _store(job.connection if job else None)
    article = store.start(article_id, job_id)
    if article is None:
        log.info("article %s: deleted or taken over by another job, nothing to do", article_id)
        metrics.observe_job("skipped")
        return
    if article.page_url and not article.text:
        article = fetch_article_text(store, article, job_id, worker_config())
        if article is None:
            return
    words = len(article.text.split())
    log.info("article %s: extraction started (%d words)", article_id, words)
    started = time.perf_counter()
    try:
        extraction = dump_extraction(get_extractor().extract(article.text, article.published_datetime))
    except RAISED_ERRORS:
        raise
    except MemoryError:
        # Failed outside the handler, once the traceback (and the parse it holds) is gone.
        log.error("article %s: the extraction ran out of memory", article_id)
        problem = _problem(500, _out_of_memory(memory_limit_mb()))
    except Exception as exc:  # a failure of the pipeline on this text: retrying cannot help
        log.exception("article %s: extraction failed", article_id)
        problem = _problem(500, f"The extractor raised {_describe(exc)}")
    else:
        seconds = time.perf_counter() - started
        store.finish(article_id, job_id, claims_document.build(article_id, extraction))
        metrics.observe_extraction(seconds, words)
        metrics.observe_job("done")
        log.info("article %s: done in %.2f s, %d claims", article_id, seconds, len(extraction["claims"]))
        return
    store.fail(article_id, job_id, problem, permanent=True)
    metrics.observe_job("failed")


def record_failure(job: Job, connection: Redis, exc_type: type[BaseException] | None,
                   exc_value: BaseException | None, traceback: TracebackType | None) -> None:
    """RQ's failure callback: runs before RQ retries the job or gives up on it.

    A timeout is the text's own cost, the same on every attempt: see :func:`_fail_for_timeout`.
    """
    if isinstance(exc_value, JobTimeoutException):
        _fail_for_timeout(job, connection)
        return
    if isinstance(exc_value, AbandonedJobError):
        reason = "The worker running the extraction stopped responding."
    else:
        reason = f"The extraction hit a transient error: {_describe(exc_value)}"
    if isinstance(exc_value, RedisError):
        metrics.observe_redis_error("worker")
    _settle_after_failure(job, connection, reason)


def record_horse_death(job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
    """RQ's work-horse-killed handler: the process running the job died (OOM killer, kill -9).

    A work-horse stuck past its timeout (in native code, where the alarm cannot interrupt it)
    is killed by its worker: that is a timeout too, not a transient death.
    """
    if job.timeout and job.started_at and (now() - job.started_at).total_seconds() > job.timeout:
        _fail_for_timeout(job, job.connection)
        return
    signal_note = f" (signal {os.WTERMSIG(ret_val)})" if ret_val and os.WIFSIGNALED(ret_val) else ""
    reason = f"The process running the extraction died{signal_note}."
    _settle_after_failure(job, job.connection, reason)


def _fail_for_timeout(job: Job, connection: Redis) -> None:
    """Fail the article for good: its retries are cancelled (RQ reads them after the hooks) and the failure cached."""
    job.retries_left = 0
    detail = f"The extraction took longer than the job timeout ({job.timeout} s)."
    log.error("article %s: %s Not retried.", job.args[0], detail)
    _store(connection).fail(job.args[0], job.id, _problem(500, detail), permanent=True)
    metrics.observe_job("failed")


def _settle_after_failure(job: Job, connection: Redis, reason: str) -> None:
    article_id = job.args[0]
    store = _store(connection)
    if job.should_retry:
        log.warning("article %s: %s Retrying (%s left).", article_id, reason, job.retries_left)
        store.requeue(article_id, job.id)
        metrics.observe_job("retried")
    else:
        log.error("article %s: %s Giving up.", article_id, reason)
        store.fail(article_id, job.id, _problem(503, reason))
        metrics.observe_job("failed")


def _store(connection: Redis | None) -> ArticleStore:
    """The store on the job's connection (its own when called outside RQ), with the worker's TTL,
    announcing settled articles to their owners' webhooks."""
    config = worker_config()
    redis = connection or connect(config.redis_url)
    return ArticleStore(redis, config.result_ttl, on_settled=WebhookEvents(redis, config).announce)


def _problem(status: int, detail: str) -> dict[str, Any]:
    return problem_body(status, EXTRACTION_FAILED, detail[:MAX_DETAIL_CHARS])


def _out_of_memory(limit_mb: int | None) -> str:
    if limit_mb is None:
        return "The extraction ran out of memory."
    return f"The extraction needed more memory than a job may use ({limit_mb} MiB)."


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "an unknown error."
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
