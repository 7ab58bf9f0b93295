"""Article events for webhooks: recorded and queued in the transaction that settles the article.

When a worker marks an article ``done`` or ``failed`` (:meth:`ArticleStore.finish`,
:meth:`ArticleStore.fail`), :meth:`WebhookEvents.announce` runs inside that same MULTI:
for each API key that owns the article, and each of its endpoints subscribed to the
event, it records a delivery and queues its RQ job on the webhooks queue. So an event
exists exactly when the article settled, and is never lost between the two. Only the
owners of the article are told: a key never receives events about another key's articles.

Deliveries run on their own queue (``{CLAIMWIRE_QUEUE}-webhooks``) and workers
(``claimwire webhook-worker``), so a slow or dead receiver never holds up extraction.
Each job retries on the schedule ``CLAIMWIRE_WEBHOOK_RETRY_SCHEDULE`` (RQ's ``Retry``).

The payload carries the event, the article id, its status and links, with the claim
count (or the problem), not the claims: those can run to hundreds of kilobytes, which
many receivers refuse, a retry hours later would carry claims that may have been
refreshed since, and the claims endpoint serves them filtered and paginated to the key
that owns them.
"""

from __future__ import annotations

import json
from typing import Any

from redis import Redis
from redis.client import Pipeline
from rq import Callback, Queue, Retry

from service.config import Config
from service.queueing import DELIVER_JOB, DELIVERY_FAILURE_CALLBACK, JOB_SERIALIZER
from service.representations import article_path, claims_path
from service.store import ANONYMOUS, OWNER_FIELD_PREFIX, article_key, now_rfc3339
from service.webhooks_store import DELIVERY_TTL, WebhookStore

QUEUE_SUFFIX = "-webhooks"
EVENT_PREFIX = "article."
# One attempt: connect, send, read the answer; each bounded by CLAIMWIRE_FETCH_TIMEOUT.
DELIVERY_JOB_MARGIN = 30


def webhooks_queue_name(config: Config) -> str:
    return config.queue_name + QUEUE_SUFFIX


def event_payload(event: str, article_id: str, status: str, details: dict[str, Any]) -> bytes:
    """The JSON body of an event, in the Standard Webhooks shape ``{type, timestamp, data}``."""
    data = {
        "article_id": article_id,
        "status": status,
        **details,
        "links": {"article": article_path(article_id), "claims": claims_path(article_id)},
    }
    return json.dumps({"type": event, "timestamp": now_rfc3339(), "data": data}, separators=(",", ":")).encode()


class WebhookEvents:
    """Records and queues the deliveries of article events."""

    def __init__(self, redis: Redis, config: Config) -> None:
        self.redis = redis
        self.store = WebhookStore(redis)
        self.queue = Queue(webhooks_queue_name(config), connection=redis, serializer=JOB_SERIALIZER)
        self.schedule = list(config.webhook_retry_schedule)
        self.timeout = int(config.fetch_timeout * 3) + DELIVERY_JOB_MARGIN

    def announce(self, pipe: Pipeline, article_id: str, status: str, details: dict[str, Any]) -> None:
        """Inside the settling transaction: a delivery per subscribed endpoint of each owner."""
        event = EVENT_PREFIX + status
        for owner in self._owners(article_id):
            for webhook in self.store.list(owner):
                if event in webhook.events:
                    payload = event_payload(event, article_id, status, details)
                    delivery_id = self.store.add_delivery(pipe, owner, webhook, event, article_id, payload)
                    self.enqueue(pipe, delivery_id)

    def enqueue(self, pipe: Pipeline, delivery_id: str) -> None:
        """Queue one delivery job (its first attempt now, retries on the schedule)."""
        self.queue.enqueue_call(
            DELIVER_JOB,
            args=(delivery_id,),
            timeout=self.timeout,
            result_ttl=0,
            failure_ttl=DELIVERY_TTL,
            retry=Retry(max=len(self.schedule), interval=self.schedule) if self.schedule else None,
            on_failure=Callback(DELIVERY_FAILURE_CALLBACK),
            description=f"deliver webhook message {delivery_id}",
            pipeline=pipe,
        )

    def _owners(self, article_id: str) -> list[str]:
        """The keys that own the article (read outside the MULTI; the article is WATCHed, so a
        change of owners makes the transaction run again)."""
        prefix = OWNER_FIELD_PREFIX.encode()
        owners = [f[len(prefix):].decode() for f in self.redis.hkeys(article_key(article_id)) if f.startswith(prefix)]
        return owners or [ANONYMOUS]
