"""The RQ jobs that deliver webhook events, and the hooks that record their failures.

One job per delivery: it signs the stored payload afresh for this attempt (Standard
Webhooks: the same ``webhook-id`` every time, a new ``webhook-timestamp`` and signature)
and POSTs it through the SSRF guard. Any 2xx is success. A network error, a timeout,
408, 429 or 5xx raises :class:`DeliveryNotAccepted`, which RQ retries on the schedule;
any other answer (3xx, 4xx) is final. A delivery already succeeded is never sent again,
so a retried job (a worker killed after the receiver answered) finds it done.
"""

from __future__ import annotations

import logging
import os
import time
from types import TracebackType
from typing import Any

from redis import Redis
from rq import get_current_job
from rq.exceptions import AbandonedJobError
from rq.job import Job

from service.fetching.client import FetchFailed, outgoing_http
from service.store import connect
from service.webhook_signing import signature_headers
from service.webhooks_store import FAILED, PENDING, SUCCEEDED, WebhookStore
from workers.worker_config import worker_config

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 429})
FINAL_FETCH_REASONS = frozenset({"refused-address", "refused-url"})


class DeliveryNotAccepted(Exception):
    """The receiver did not take the event this time; RQ tries again later."""


def deliver_webhook(delivery_id: str) -> None:
    """Send one delivery once; raise :class:`DeliveryNotAccepted` when it should be retried."""
    job = get_current_job()
    config = worker_config()
    store = WebhookStore(job.connection if job else connect(config.redis_url))
    delivery = store.delivery(delivery_id)
    if delivery is None or delivery["status"] == SUCCEEDED:
        return
    webhook = store.get(delivery["owner"], delivery["webhook_id"])
    if webhook is None:
        store.settle(delivery_id, FAILED, "The webhook was deleted.")
        return
    body = delivery["payload"].encode()
    headers = {"Content-Type": "application/json", **signature_headers(webhook.secret, delivery_id, int(time.time()), body)}
    try:
        status = outgoing_http(config).post(webhook.url, body, headers)
    except FetchFailed as exc:
        final = exc.reason in FINAL_FETCH_REASONS
        store.record_attempt(delivery_id, FAILED if final else PENDING, None, str(exc))
        if not final:
            raise DeliveryNotAccepted(str(exc)) from None
        return
    if 200 <= status < 300:
        store.record_attempt(delivery_id, SUCCEEDED, status, None)
        return
    error = f"The endpoint answered HTTP {status}."
    if status >= 500 or status in RETRYABLE_STATUSES:
        store.record_attempt(delivery_id, PENDING, status, error)
        raise DeliveryNotAccepted(error)
    store.record_attempt(delivery_id, FAILED, status, error)


def record_delivery_failure(job: Job, connection: Redis, exc_type: type[BaseException] | None,
                            exc_value: BaseException | None, traceback: TracebackType | None) -> None:
    """RQ's failure callback: the delivery fails for good once RQ gives up on it."""
    if isinstance(exc_value, AbandonedJobError):
        reason = "The delivery worker stopped responding during an attempt."
    else:
        reason = str(exc_value) or type(exc_value).__name__
    _settle(job, connection, reason)


def record_delivery_horse_death(job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
    """RQ's work-horse-killed handler for the delivery queue."""
    signal_note = f" (signal {os.WTERMSIG(ret_val)})" if ret_val and os.WIFSIGNALED(ret_val) else ""
    _settle(job, job.connection, f"The process delivering the event died{signal_note}.")


def _settle(job: Job, connection: Redis, reason: str) -> None:
    delivery_id = job.args[0]
    store = WebhookStore(connection)
    delivery = store.delivery(delivery_id)
    if delivery is None or delivery["status"] != PENDING:
        return
    if job.should_retry:
        log.warning("delivery %s: %s Retrying (%s left).", delivery_id, reason, job.retries_left)
        store.settle(delivery_id, PENDING, reason)
    else:
        log.error("delivery %s: %s Giving up.", delivery_id, reason)
        store.settle(delivery_id, FAILED, reason)
