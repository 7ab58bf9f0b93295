"""Batches of articles: reading a batch request, and the batch records in Redis.

A batch is up to ``MAX_BATCH_ITEMS`` articles, each as ``POST /v1/articles`` takes it,
sent as one JSON array or as NDJSON (one object per line). 2,000 is a large newsroom's
output of a week or a mid-sized archive section per request: its per-item submissions
take a few seconds of Redis round trips, well inside the API's request timeout, and
``CLAIMWIRE_MAX_QUEUE_DEPTH`` (10,000 by default) holds five full batches.

The request is read before the rate limit is checked (:func:`init_batch_intake`, an
app-level hook that runs after the caller is identified) so that the limit counts the
batch's items, not one request; a batch with more items than the whole limit is refused
with 422 since it could never pass.

=====================================  ======  ==============================================
key                                    type    content, lifetime
=====================================  ======  ==============================================
``claimwire:batch:{id}``               hash    ``id``, ``owner``, ``created_at``, ``total``,
                                               ``accepted``, ``rejected``; written last, so a
                                               batch is visible only once complete. Expires
                                               with ``CLAIMWIRE_RESULT_TTL``.
``claimwire:batch:{id}:items``         list    one JSON entry per item in order:
                                               ``{"index", "article_id"}`` or
                                               ``{"index", "problem"}``; same lifetime.
=====================================  ======  ==============================================
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask, g, request
from limits import parse as parse_limit
from redis import Redis

from service.config import Config
from service.problems import MALFORMED_BODY, VALIDATION, ProblemError
from service.request_cost import BATCH_ENDPOINT, charge
from service.request_limits import read_body
from service.store import KEY_PREFIX, article_key, now_rfc3339, result_key
from service.submission import load_json

MAX_BATCH_ITEMS = 2_000
NDJSON = "application/x-ndjson"
BATCH_MEDIA_TYPES = ("application/json", NDJSON)
WRITE_CHUNK = 500
READ_CHUNK = 200
ITEMS_ATTRIBUTE = "batch_items"


def batch_key(batch_id: str) -> str:
    return f"{KEY_PREFIX}batch:{batch_id}"


def items_key(batch_id: str) -> str:
    return f"{KEY_PREFIX}batch:{batch_id}:items"


def init_batch_intake(app: Flask, config: Config) -> None:
    """Read batch bodies (up to ``CLAIMWIRE_MAX_BATCH_BYTES``) before the rate limit counts them."""
    limit_amount = parse_limit(config.rate_limit).amount if config.rate_limit else None

    @app.before_request
    def read_batch() -> None:
        if request.endpoint != BATCH_ENDPOINT:
            return
        items = _read_items(config)
        if limit_amount is not None and len(items) > limit_amount:
            raise ProblemError(
                422, VALIDATION,
                f"The batch has {len(items)} items but the rate limit allows {limit_amount} per window "
                f"({config.rate_limit}); each item counts. Split it into smaller batches.",
            )
        setattr(g, ITEMS_ATTRIBUTE, items)
        charge(len(items))


def batch_items() -> list[Any]:
    """The items :func:`init_batch_intake` read from this request."""
    return getattr(g, ITEMS_ATTRIBUTE)


@dataclass(frozen=True, slots=True)
class MalformedItem:
    """An NDJSON line that is not JSON: reported as that item's problem, the others go on."""

    detail: str


def _read_items(config: Config) -> list[Any]:
    """The batch's items: the body read whole as :func:`~service.request_limits.read_body` reads
    any body (413, 408), each item decoded as a single article's JSON is (a bad NDJSON line is
    that item's problem)."""
    if request.mimetype not in BATCH_MEDIA_TYPES:
        raise ProblemError(
            415, detail=f"Send the batch as {' or '.join(BATCH_MEDIA_TYPES)}.",
            headers={"Accept-Post": ", ".join(BATCH_MEDIA_TYPES)},
        )
    body = read_body(request, config, config.max_batch_bytes)
    if request.mimetype == NDJSON:
        items: list[Any] = []
        for number, line in enumerate(body.splitlines(), start=1):
            if line.strip():
                try:
                    items.append(load_json(line))
                except ProblemError as exc:
                    items.append(MalformedItem(f"Line {number}: {exc.detail}"))
                _check_count(len(items))
    else:
        items = load_json(body)
        if not isinstance(items, list):
            raise ProblemError(400, MALFORMED_BODY, "The body must be a JSON array of articles.")
        _check_count(len(items))
    if not items:
        raise ProblemError(422, VALIDATION, "The batch has no items.")
    return items


def _check_count(count: int) -> None:
    if count > MAX_BATCH_ITEMS:
        raise ProblemError(422, VALIDATION, f"A batch has at most {MAX_BATCH_ITEMS} items.")


@dataclass(frozen=True, slots=True)
class Batch:
    id: str
    owner: str
    created_at: str
    total: int
    accepted: int
    rejected: int


class BatchStore:
    """Batch records: written once, read as progress counts and as a stream of results."""

    def __init__(self, redis: Redis, ttl: int) -> None:
        self.redis, self.ttl = redis, ttl

    def new_id(self) -> str:
        return secrets.token_hex(16)

    def append_items(self, batch_id: str, entries: list[dict[str, Any]]) -> None:
        """Add item entries (in order); invisible until :meth:`publish`."""
        if entries:
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.rpush(items_key(batch_id), *(json.dumps(e, separators=(",", ":")) for e in entries))
                pipe.expire(items_key(batch_id), self.ttl)
                pipe.execute()

    def publish(self, batch: Batch) -> None:
        with self.redis.pipeline() as pipe:
            pipe.hset(batch_key(batch.id), mapping={k: str(getattr(batch, k)) for k in Batch.__dataclass_fields__})
            pipe.expire(batch_key(batch.id), self.ttl)
            pipe.expire(items_key(batch.id), self.ttl)
            pipe.execute()

    def get(self, batch_id: str, owner: str) -> Batch | None:
        raw = {k.decode(): v.decode() for k, v in self.redis.hgetall(batch_key(batch_id)).items()}
        if not raw or raw["owner"] != owner:
            return None
        return Batch(raw["id"], raw["owner"], raw["created_at"], int(raw["total"]), int(raw["accepted"]), int(raw["rejected"]))

    def counts(self, batch_id: str) -> dict[str, int]:
        """Items per article status (``rejected`` for items refused at submission, ``missing`` for expired)."""
        counts = dict.fromkeys(("queued", "running", "done", "failed", "rejected", "missing"), 0)
        for chunk in self._chunks(batch_id):
            ids = [e["article_id"] for e in chunk if "article_id" in e]
            counts["rejected"] += len(chunk) - len(ids)
            with self.redis.pipeline(transaction=False) as pipe:
                for article_id in ids:
                    pipe.hget(article_key(article_id), "status")
                for status in pipe.execute():
                    counts[status.decode() if status else "missing"] += 1
        return counts

    def results(self, batch_id: str) -> Iterator[dict[str, Any]]:
        """One line per item, in order: its status and claims (or problem), a chunk at a time."""
        for chunk in self._chunks(batch_id):
            with self.redis.pipeline(transaction=False) as pipe:
                for entry in chunk:
                    if "article_id" in entry:
                        pipe.hmget(article_key(entry["article_id"]), "status", "problem")
                        pipe.get(result_key(entry["article_id"]))
                replies = iter(pipe.execute())
            for entry in chunk:
                if "article_id" not in entry:
                    yield {"index": entry["index"], "status": "rejected", "problem": entry["problem"]}
                    continue
                (status, problem), result = next(replies), next(replies)
                line: dict[str, Any] = {"index": entry["index"], "article_id": entry["article_id"],
                                        "status": status.decode() if status else "missing"}
                if line["status"] == "done" and result is not None:
                    line["claims"] = json.loads(result)["claims"]
                elif line["status"] == "failed" and problem is not None:
                    line["problem"] = json.loads(problem)
                yield line

    def _chunks(self, batch_id: str) -> Iterator[list[dict[str, Any]]]:
        start = 0
        while True:
            raw = self.redis.lrange(items_key(batch_id), start, start + READ_CHUNK - 1)
            if not raw:
                return
            yield [json.loads(r) for r in raw]
            start += READ_CHUNK


def new_batch(batch_id: str, owner: str, total: int, rejected: int) -> Batch:
    return Batch(batch_id, owner, now_rfc3339(), total, total - rejected, rejected)
