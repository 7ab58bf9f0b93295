"""Webhook endpoints and their deliveries, in Redis.

=================================================  ======  =====================================
key                                                type    content, lifetime
=================================================  ======  =====================================
``claimwire:webhooks:{owner}``                     hash    webhook id -> JSON ``{"id", "url",
                                                           "events", "description",
                                                           "created_at", "secret"}``; ``owner``
                                                           is the API key id (``anonymous``
                                                           for callers without a key). Kept until deleted.
``claimwire:webhook-delivery:{id}``                hash    one event for one endpoint: ``id``
                                                           (the ``webhook-id`` header, the same
                                                           on every attempt), ``webhook_id``,
                                                           ``owner``, ``event``, ``article_id``,
                                                           ``payload`` (the body, fixed when the
                                                           event happened), ``status`` (pending,
                                                           succeeded, failed), ``attempts``,
                                                           ``last_error``, ``last_http_status``,
                                                           ``created_at``, ``last_attempt_at``.
                                                           Expires ``DELIVERY_TTL`` after its
                                                           last change.
``claimwire:webhook-deliveries:{owner}:{webhook}``  zset    delivery ids by creation time, the
                                                           latest ``MAX_LISTED_DELIVERIES``.
=================================================  ======  =====================================

The signing secret has to be kept as it is (it signs every delivery); it is shown to the
client once, when the endpoint is created, and never listed.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from redis import Redis
from redis.client import Pipeline

from service.store import KEY_PREFIX, now_rfc3339
from service.webhook_signing import new_secret

EVENT_TYPES: tuple[str, ...] = ("article.done", "article.failed")
MAX_WEBHOOKS_PER_OWNER = 10
MAX_LISTED_DELIVERIES = 100
DELIVERY_TTL = 7 * 24 * 3600
PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
_DELIVERY_INT_FIELDS = ("attempts", "last_http_status")


def webhooks_key(owner: str) -> str:
    return f"{KEY_PREFIX}webhooks:{owner}"


def delivery_key(delivery_id: str) -> str:
    return f"{KEY_PREFIX}webhook-delivery:{delivery_id}"


def deliveries_index_key(owner: str, webhook_id: str) -> str:
    return f"{KEY_PREFIX}webhook-deliveries:{owner}:{webhook_id}"


@dataclass(frozen=True, slots=True)
class Webhook:
    """A registered endpoint."""

    id: str
    url: str
    events: list[str]
    description: str | None
    created_at: str
    secret: str

    def public(self) -> dict[str, Any]:
        """What the API lists: everything but the secret."""
        return {k: v for k, v in asdict(self).items() if k != "secret"}


class TooManyWebhooks(Exception):
    """The owner already has ``MAX_WEBHOOKS_PER_OWNER`` endpoints."""


class WebhookStore:
    """Endpoints per owner, and the deliveries of events to them."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    # --- endpoints ---------------------------------------------------------------------

    def create(self, owner: str, url: str, events: list[str], description: str | None) -> Webhook:
        webhook = Webhook(
            id="wh_" + secrets.token_hex(8), url=url, events=sorted(set(events)), description=description,
            created_at=now_rfc3339(), secret=new_secret(),
        )
        if self.redis.hlen(webhooks_key(owner)) >= MAX_WEBHOOKS_PER_OWNER:
            raise TooManyWebhooks(owner)
        self.redis.hset(webhooks_key(owner), webhook.id, json.dumps(asdict(webhook)))
        return webhook

    def list(self, owner: str) -> list[Webhook]:
        hooks = [Webhook(**json.loads(raw)) for raw in self.redis.hvals(webhooks_key(owner))]
        return sorted(hooks, key=lambda w: (w.created_at, w.id))

    def get(self, owner: str, webhook_id: str) -> Webhook | None:
        raw = self.redis.hget(webhooks_key(owner), webhook_id)
        return Webhook(**json.loads(raw)) if raw else None

    def delete(self, owner: str, webhook_id: str) -> bool:
        """Remove the endpoint and the list of its deliveries (pending ones find it gone)."""
        with self.redis.pipeline() as pipe:
            pipe.hdel(webhooks_key(owner), webhook_id)
            pipe.delete(deliveries_index_key(owner, webhook_id))
            removed, _ = pipe.execute()
        return bool(removed)

    # --- deliveries --------------------------------------------------------------------

    def add_delivery(self, pipe: Pipeline, owner: str, webhook: Webhook, event: str, article_id: str,
                     payload: bytes) -> str:
        """Record a pending delivery inside the caller's transaction; returns its id."""
        delivery_id = "msg_" + secrets.token_hex(12)
        now = now_rfc3339()
        record = {
            "id": delivery_id, "webhook_id": webhook.id, "owner": owner, "event": event,
            "article_id": article_id, "payload": payload.decode(), "status": PENDING, "attempts": "0",
            "created_at": now,
        }
        index = deliveries_index_key(owner, webhook.id)
        pipe.hset(delivery_key(delivery_id), mapping=record)
        pipe.expire(delivery_key(delivery_id), DELIVERY_TTL)
        pipe.zadd(index, {delivery_id: time.time()})
        pipe.zremrangebyrank(index, 0, -MAX_LISTED_DELIVERIES - 1)
        pipe.expire(index, DELIVERY_TTL)
        return delivery_id

    def delivery(self, delivery_id: str) -> dict[str, Any] | None:
        raw = self.redis.hgetall(delivery_key(delivery_id))
        if not raw:
            return None
        record: dict[str, Any] = {k.decode(): v.decode() for k, v in raw.items()}
        for name in _DELIVERY_INT_FIELDS:
            if name in record:
                record[name] = int(record[name])
        return record

    def deliveries(self, owner: str, webhook_id: str) -> list[dict[str, Any]]:
        """The endpoint's recent deliveries, newest first."""
        ids = self.redis.zrevrange(deliveries_index_key(owner, webhook_id), 0, MAX_LISTED_DELIVERIES - 1)
        records = (self.delivery(i.decode()) for i in ids)
        return [r for r in records if r is not None]

    def record_attempt(self, delivery_id: str, status: str, http_status: int | None, error: str | None) -> None:
        """One attempt's outcome; ``status`` stays pending while retries remain."""
        key = delivery_key(delivery_id)
        fields_: dict[str, str] = {"status": status, "last_attempt_at": now_rfc3339()}
        if http_status is not None:
            fields_["last_http_status"] = str(http_status)
        with self.redis.pipeline() as pipe:
            pipe.hset(key, mapping=fields_)
            pipe.hincrby(key, "attempts", 1)
            if error is None:
                pipe.hdel(key, "last_error")
            else:
                pipe.hset(key, "last_error", error)
            pipe.expire(key, DELIVERY_TTL)
            pipe.execute()

    def settle(self, delivery_id: str, status: str, error: str | None) -> None:
        """Final state without a new attempt (retries used up, worker lost)."""
        key = delivery_key(delivery_id)
        mapping = {"status": status, **({"last_error": error} if error else {})}
        with self.redis.pipeline() as pipe:
            pipe.hset(key, mapping=mapping)
            pipe.expire(key, DELIVERY_TTL)
            pipe.execute()

    def reopen(self, pipe: Pipeline, delivery_id: str) -> None:
        """Back to pending for a redelivery (same id and body, new attempts)."""
        pipe.hset(delivery_key(delivery_id), "status", PENDING)
        pipe.expire(delivery_key(delivery_id), DELIVERY_TTL)
