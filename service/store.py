"""All Redis access for articles, their extraction results and idempotency keys.

Key layout (``{id}`` is the article id; every key of the service starts with ``claimwire:``):

=====================================  ======  ==============================================
key                                    type    content, lifetime
=====================================  ======  ==============================================
``claimwire:article:{id}``             hash    the article and its state: ``status``
                                               (queued | running | done | failed), ``text``,
                                               ``published_at``, ``language``,
                                               ``created_at``, ``started_at``,
                                               ``finished_at``, ``extractor_version``,
                                               ``attempts``, ``job_id`` (the RQ job that owns
                                               it), ``problem`` (JSON, when failed),
                                               ``failure`` (``permanent`` when the failure is
                                               cached like a result), when done ``etag``,
                                               ``claims_span`` and ``claims_total`` (of the
                                               result), ``page_url`` (the page to fetch, for
                                               an article submitted by URL) and
                                               ``page_metadata`` (JSON: title, author and
                                               publisher found in that page), and one
                                               ``owner:{owner}`` field per caller that
                                               submitted it, holding what it submitted
                                               (see Ownership below), and ``revision``: a
                                               random token that every write of the hash
                                               replaces, so that a reader holding what it
                                               made of one revision need not read the hash
                                               again (:mod:`service.rendered_articles`). Expires
                                               ``CLAIMWIRE_RESULT_TTL`` seconds after its last
                                               change.
``claimwire:result:{id}``              string  the claims document as served by
                                               ``GET .../claims`` unfiltered and unpaginated
                                               (:mod:`service.claims_document`); expires
                                               ``CLAIMWIRE_RESULT_TTL`` seconds after it was
                                               written, together with its article.
``claimwire:idempotency:{sha256(o,k)}``string  JSON ``{"article_id", "fingerprint"}`` for the
                                               ``Idempotency-Key`` k sent by the API key o;
                                               expires after 24 hours.
``claimwire:events:{id}``              pubsub  channel, not a key: the new status is published
                                               when an article ends ``done`` or ``failed``.
``rq:*``                               (RQ)    the queue (``CLAIMWIRE_QUEUE``), its jobs,
                                               registries and workers, owned by RQ.
=====================================  ======  ==============================================

The article id is derived from what the extraction depends on (the text, the publication
time and ``EXTRACTOR_VERSION``; for an article to fetch, its URL in place of the text, see
:func:`service.article_sources.url_article_id`), so the same article always gets the same
id and a new extractor version gets fresh results. Every write that touches more than one
field or key runs in one MULTI transaction, guarded by WATCH where it depends on what it
read: nothing is ever half-written, and a worker whose job was superseded (article deleted
or submitted anew) cannot overwrite the newer state.

Ownership: an article is visible only to the callers that submitted it, each named by an
``owner:{owner}`` field: an API key id, or ``anonymous`` for a caller without a key (the
API open). The field holds that owner's own submission (JSON of ``OWNER_FIELDS``: title,
url, publisher, metadata, author, source, language and when it submitted), so no owner
ever sees or changes another's; only the text, its publication time (both part of the id)
and the extraction are shared by content. An article fetched by URL also shares what the
fetch found (the page's URL is part of its id): the text, and the page's title, author and
publisher, which an owner sees where it sent none of its own.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from redis import Redis
from redis import __version__ as REDIS_PY_VERSION
from redis.client import Pipeline
from redis.driver_info import DriverInfo
from redis.exceptions import WatchError

from workers.version import EXTRACTOR_VERSION

KEY_PREFIX = "claimwire:"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
IDEMPOTENCY_TTL = 24 * 3600
MAX_OPTIMISTIC_RETRIES = 20

T = TypeVar("T")
# Given, so that redis-py does not look its own version up in the package metadata for every
# new connection (milliseconds each, paid again in every work-horse RQ forks).
DRIVER_INFO = DriverInfo(lib_version=REDIS_PY_VERSION)


class ArticleStatus(StrEnum):
    """Where an article's extraction stands, as stored and served (like rq's ``JobStatus``)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


QUEUED, RUNNING, DONE, FAILED = ArticleStatus  # the members by their short names
PENDING = frozenset({QUEUED, RUNNING})
SETTLED = frozenset({DONE, FAILED})

# A failure of the text itself (the pipeline raised, ran out of time or memory) is cached by
# content like a result: submitting the same article again answers with it and queues nothing.
PERMANENT = "permanent"

OWNER_FIELD_PREFIX = "owner:"
# The owner of what a caller without an API key submits (never a key id, which is hex).
ANONYMOUS = "anonymous"
# What each owner of an article submitted for itself, kept in its owner field. All but the
# first two are stored nowhere else; the hash keeps a created_at and language of its own.
OWNER_FIELDS: tuple[str, ...] = (
    "created_at", "language", "title", "url", "publisher", "metadata", "author", "source"
)
_PRIVATE_FIELDS = OWNER_FIELDS[2:]
# Extraction state that a new job starts without.
_RESET_FIELDS: tuple[str, ...] = ("started_at", "finished_at", "problem", "failure")
# Fields of the article hash describing its stored result, written with it.
ETAG_FIELD, SPAN_FIELD, TOTAL_FIELD = "etag", "claims_span", "claims_total"
RESULT_FIELDS = (ETAG_FIELD, SPAN_FIELD, TOTAL_FIELD)
# Replaced by every write of the article hash (see the key table above).
REVISION_FIELD = "revision"
# What a fetch found, which a new fetch finds afresh.
_FETCHED_FIELDS: tuple[str, ...] = ("published_at", "page_metadata")
# What a fetched page may say of itself, shown where the owner sent nothing of its own.
PAGE_METADATA_FIELDS: tuple[str, ...] = ("title", "author", "publisher")
_JSON_FIELDS = ("metadata", "problem", "page_metadata")
_INT_FIELDS = ("attempts",)


def connect(redis_url: str | None) -> Redis:
    """A Redis client for the service (bytes in and out, as RQ requires)."""
    return Redis.from_url(
        redis_url or DEFAULT_REDIS_URL,
        socket_connect_timeout=5,
        socket_timeout=30,
        health_check_interval=30,
        driver_info=DRIVER_INFO,
    )


def article_key(article_id: str) -> str:
    return f"{KEY_PREFIX}article:{article_id}"


def result_key(article_id: str) -> str:
    return f"{KEY_PREFIX}result:{article_id}"


def idempotency_key(key: str, owner: str = ANONYMOUS) -> str:
    """Scoped by owner, so one client's Idempotency-Key never answers for another's."""
    scoped = f"{owner}\n{key}"
    return f"{KEY_PREFIX}idempotency:{hashlib.sha256(scoped.encode()).hexdigest()}"


def owner_field(owner: str) -> str:
    return OWNER_FIELD_PREFIX + owner


def _owner_fields(raw: dict[bytes, bytes]) -> list[str]:
    return [k.decode() for k in raw if k.startswith(OWNER_FIELD_PREFIX.encode())]


def _visible(raw: dict[bytes, bytes], owner: str) -> bool:
    """Whether ``owner`` submitted the article.

    An article with no owner at all was stored, before every caller was recorded as one,
    while the API was open: it stays its anonymous callers'.
    """
    if owner_field(owner).encode() in raw:
        return True
    return bool(raw) and owner == ANONYMOUS and not _owner_fields(raw)


def _submission_of(article: Article) -> dict[str, Any]:
    return {name: getattr(article, name) for name in OWNER_FIELDS}


def _as_seen_by(raw: dict[bytes, bytes], owner: str) -> Article:
    """The article with ``owner``'s own submission in place of anyone else's.

    An owner recorded before submissions were kept per owner (its field holds ``1``)
    sees the fields stored with the article itself.
    """
    article = Article.from_hash(raw)
    record = json.loads(raw.get(owner_field(owner).encode(), b"null"))
    return _with_submission(article, record) if isinstance(record, dict) else article


def _with_submission(article: Article, record: dict[str, Any]) -> Article:
    for name in OWNER_FIELDS:
        setattr(article, name, record.get(name))
    for name, value in (article.page_metadata or {}).items():
        if name in PAGE_METADATA_FIELDS and getattr(article, name) is None:
            setattr(article, name, value)
    return article


def events_channel(article_id: str) -> str:
    return f"{KEY_PREFIX}events:{article_id}"


def now_rfc3339() -> str:
    """The current UTC time as RFC 3339 with milliseconds, e.g. ``2025-01-02T03:04:05.678Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def derive_article_id(text: str, published_at: datetime | None) -> str:
    """Same text, publication time and extractor version: same id (and same cached claims)."""
    stamp = rfc3339(published_at) if published_at else ""
    digest = hashlib.sha256(f"{EXTRACTOR_VERSION}\n{stamp}\n{text}".encode())
    return digest.hexdigest()[:32]


@dataclass(slots=True)
class Article:
    """An article as stored, with the state of its extraction."""

    id: str
    status: ArticleStatus
    text: str
    language: str
    extractor_version: str
    created_at: str
    job_id: str
    attempts: int = 0
    title: str | None = None
    url: str | None = None
    publisher: str | None = None
    published_at: str | None = None
    metadata: dict[str, Any] | None = None
    author: str | None = None
    source: str | None = None  # text | html | url: what the client sent (absent on older records: text)
    page_url: str | None = None
    page_metadata: dict[str, Any] | None = None
    started_at: str | None = None
    finished_at: str | None = None
    problem: dict[str, Any] | None = None
    failure: str | None = None

    @property
    def published_datetime(self) -> datetime | None:
        return datetime.fromisoformat(self.published_at) if self.published_at else None

    @classmethod
    def from_hash(cls, raw: dict[bytes, bytes]) -> Article:
        fields_: dict[str, Any] = {k.decode(): v.decode() for k, v in raw.items()}
        for name in _JSON_FIELDS:
            if name in fields_:
                fields_[name] = json.loads(fields_[name])
        for name in _INT_FIELDS:
            if name in fields_:
                fields_[name] = int(fields_[name])
        if "status" in fields_:
            fields_["status"] = ArticleStatus(fields_["status"])
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in fields_.items() if k in known})

    def to_hash(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is None:
                continue
            out[name] = json.dumps(value) if name in _JSON_FIELDS else str(value)
        return out


@dataclass(frozen=True, slots=True)
class StoredResult:
    """The claims document of a done article as stored: its bytes, its strong ETag and where in
    them its claims array is, so that it can be served, or spliced, without parsing it.

    ``etag`` and ``claims_span`` are None for a result stored without them; it is then parsed.
    """

    body: bytes
    etag: str | None = None
    claims_span: tuple[int, int] | None = None
    total: int | None = None

    @classmethod
    def from_redis(
        cls, body: bytes | None, etag: bytes | None, span: bytes | None, total: bytes | None
    ) -> StoredResult | None:
        if body is None:
            return None
        if etag is None or span is None or total is None:
            return cls(body)
        start, end = span.split(b":")
        return cls(body, etag.decode(), (int(start), int(end)), int(total))

    def document(self) -> dict[str, Any]:
        return json.loads(self.body)

    def claims_json(self) -> bytes:
        """The JSON array of the claims, as stored."""
        if self.claims_span is None:
            return json.dumps(self.document()["claims"], separators=(",", ":")).encode()
        start, end = self.claims_span
        return self.body[start:end]


@dataclass(slots=True)
class Submission:
    """What a submission led to: the article, with its cached result when done."""

    article: Article
    result: StoredResult | None = None


class JobQueue(Protocol):
    """Where extractions are queued (:class:`service.queueing.ExtractionJobs`)."""

    def enqueue(self, pipeline: Pipeline, article_id: str) -> str:
        """Queue the article's extraction inside ``pipeline``'s transaction; return the job id."""

    def is_alive(self, job_id: str) -> bool:
        """Whether the job may still run (it is neither gone nor ended)."""

    def is_full(self) -> bool:
        """Whether the queue holds as many jobs as it may (new work must wait)."""


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was first used with a different request."""


class QueueFull(Exception):
    """The article would need a new job, and the queue is at its bound."""


class SettleListener(Protocol):
    """Told inside the transaction that settles an article (:class:`service.webhook_events.WebhookEvents`)."""

    def __call__(self, pipe: Pipeline, article_id: str, status: str, details: dict[str, Any]) -> None: ...


@dataclass
class ArticleStore:
    """Reads and writes articles and results; the only module that knows the key layout."""

    redis: Redis
    result_ttl: int
    on_settled: SettleListener | None = None

    # --- reads -------------------------------------------------------------------------

    def get(self, article_id: str, owner: str = ANONYMOUS) -> Article | None:
        """The article as ``owner`` submitted it, or None when unknown or submitted by others only."""
        raw = self.redis.hgetall(article_key(article_id))
        return _as_seen_by(raw, owner) if _visible(raw, owner) else None

    def get_with_result(self, article_id: str, owner: str = ANONYMOUS) -> tuple[Article | None, StoredResult | None]:
        """The article (as :meth:`get`) and, when it is done, its stored result, in one round trip."""
        return seen_by(*self._article_and_body(article_id), owner)

    def _article_and_body(self, article_id: str) -> tuple[dict[bytes, bytes], bytes | None]:
        """The article's hash and its stored document, in one round trip."""
        with self.redis.pipeline() as pipe:
            pipe.hgetall(article_key(article_id))
            pipe.get(result_key(article_id))
            raw, body = pipe.execute()
        return raw, body

    def wait_until_settled(self, article_id: str, timeout: float, owner: str = ANONYMOUS) -> Article | None:
        """The article (as ``owner`` sees it) once ``done`` or ``failed``, or as it is after ``timeout`` seconds.

        Subscribes to the article's channel before reading, so a transition that lands
        between the read and the wait still wakes us up.
        """
        deadline = time.monotonic() + timeout
        with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
            pubsub.subscribe(events_channel(article_id))
            while True:
                article = self.get(article_id, owner)
                remaining = deadline - time.monotonic()
                if article is None or article.status in SETTLED or remaining <= 0:
                    return article
                pubsub.get_message(timeout=remaining)

    # --- submission --------------------------------------------------------------------

    def submit(
        self,
        fields_: dict[str, Any],
        jobs: JobQueue,
        idempotency: str | None = None,
        owner: str = ANONYMOUS,
        article_id: str | None = None,
        refresh: bool = False,
    ) -> Submission:
        """Store an article and queue its extraction, unless it is already done or pending.

        ``fields_`` is a loaded :class:`~service.schemas.ArticleSubmissionSchema`. The job
        is queued in the same transaction that stores the article. An article pending on a
        job that is gone or ended (lost by some failure), or failed for a transient reason,
        is queued again; a permanent failure is kept like a result. With an
        ``idempotency`` key, a repeat of the same request answers with the article's
        current state and never queues again, and the same key with a different request
        raises :class:`IdempotencyKeyReused`. The ``owner`` (an API key id, or
        :data:`ANONYMOUS`) is added to the article's owners with what it submitted; an
        owner's first submission of an article is what it keeps seeing, until a new job
        is queued for the article on its behalf. Other owners' submissions are never
        read or changed. When a new job is needed and the queue is full, nothing is
        written and :class:`QueueFull` is raised. ``article_id`` replaces the id derived
        from the text (an article to fetch by URL has no text yet); with ``refresh`` a
        done or failed article is queued again (an idempotent replay still is not).
        """
        article_id = article_id or derive_article_id(fields_["text"], fields_.get("published_at"))
        idem_key = idempotency_key(idempotency, owner) if idempotency is not None else None
        akey, rkey = article_key(article_id), result_key(article_id)
        if idem_key is None and not refresh:  # the repeat of a settled article this owner already holds writes nothing
            raw, body = self._article_and_body(article_id)
            if holds_done(raw, body, owner):
                return Submission(_as_seen_by(raw, owner), _result_of(raw, body))
            if owner_field(owner).encode() in raw:
                held = _as_seen_by(raw, owner)
                if held.status == FAILED and held.failure == PERMANENT:
                    return Submission(held)
        fingerprint = _fingerprint(fields_)

        def attempt(pipe: Pipeline) -> Submission:
            replay = False
            if idem_key:
                seen = pipe.get(idem_key)
                if seen is not None:
                    if json.loads(seen)["fingerprint"] != fingerprint:
                        raise IdempotencyKeyReused(idempotency)
                    replay = True
            raw = pipe.hgetall(akey)
            current = Article.from_hash(raw) if raw else None
            mine = owner_field(owner).encode() in raw
            result = _result_of(raw, pipe.get(rkey)) if current and current.status == DONE else None
            keep = current is not None and (
                (current.status in PENDING and jobs.is_alive(current.job_id))
                or (current.status == DONE and result is not None and (replay or not refresh))
                or (current.status == FAILED and (replay or (current.failure == PERMANENT and not refresh)))
            )
            if not keep and jobs.is_full():
                raise QueueFull(article_id)
            pipe.multi()
            if idem_key and not replay:
                record = {"article_id": article_id, "fingerprint": fingerprint}
                pipe.set(idem_key, json.dumps(record), ex=IDEMPOTENCY_TTL)
            submitted = _new_article(article_id, fields_, "")
            if keep and current is not None:
                if mine:
                    view = _as_seen_by(raw, owner)
                else:
                    pipe.hset(akey, mapping={owner_field(owner): json.dumps(_submission_of(submitted)), **_revised()})
                    view = _with_submission(current, _submission_of(submitted))
                pipe.execute()
                return Submission(view, result)
            submitted.job_id = jobs.enqueue(pipe, article_id)
            shared = {k: v for k, v in submitted.to_hash().items() if k not in _PRIVATE_FIELDS}
            pipe.delete(rkey)
            pipe.hdel(akey, *_RESET_FIELDS, *RESULT_FIELDS, *_FETCHED_FIELDS)
            pipe.hset(akey, mapping={**shared, owner_field(owner): json.dumps(_submission_of(submitted)), **_revised()})
            pipe.expire(akey, self.result_ttl)
            pipe.execute()
            return Submission(submitted)

        return self._watched((akey, rkey, *([idem_key] if idem_key else [])), attempt)

    def delete(self, article_id: str, owner: str = ANONYMOUS) -> bool:
        """``owner`` lets go of the article; False when it is not one of the article's owners.

        The article and its cached result are removed once no owner is left.
        """
        akey = article_key(article_id)

        def attempt(pipe: Pipeline) -> bool:
            raw = pipe.hgetall(akey)
            if not _visible(raw, owner):
                return False
            others = set(_owner_fields(raw)) - {owner_field(owner)}
            pipe.multi()
            if others:
                pipe.hdel(akey, owner_field(owner))
                pipe.hset(akey, mapping=_revised())
            else:
                pipe.delete(akey, result_key(article_id))
            pipe.execute()
            return True

        return self._watched((akey,), attempt)

    # --- transitions made by the worker --------------------------------------------------

    def start(self, article_id: str, job_id: str | None) -> Article | None:
        """Mark the article running for this job; None when the job no longer owns it."""

        def apply(pipe: Pipeline, article: Article) -> None:
            key = article_key(article_id)
            pipe.hset(key, mapping={"status": RUNNING, "started_at": now_rfc3339()})
            pipe.hdel(key, "finished_at", "problem", "failure", *RESULT_FIELDS)
            pipe.hincrby(key, "attempts", 1)
            pipe.expire(key, self.result_ttl)

        return self._transition(article_id, job_id, apply)

    def finish(self, article_id: str, job_id: str | None, result: StoredResult) -> bool:
        """Cache the claims document and mark the article done, in one transaction."""

        def apply(pipe: Pipeline, article: Article) -> None:
            key = article_key(article_id)
            pipe.set(result_key(article_id), result.body, ex=self.result_ttl)
            fields_ = {"status": DONE, "finished_at": now_rfc3339()}
            if result.etag is not None and result.claims_span is not None and result.total is not None:
                start, end = result.claims_span
                fields_.update({ETAG_FIELD: result.etag, SPAN_FIELD: f"{start}:{end}", TOTAL_FIELD: str(result.total)})
            pipe.hset(key, mapping=fields_)
            pipe.hdel(key, "problem")
            pipe.expire(key, self.result_ttl)
            pipe.publish(events_channel(article_id), DONE)
            if self.on_settled is not None:
                self.on_settled(pipe, article_id, DONE, {"claims_count": result.total if result.total is not None else len(result.document()["claims"])})

        return self._transition(article_id, job_id, apply) is not None

    def fail(self, article_id: str, job_id: str | None, problem: dict[str, Any], permanent: bool = False) -> bool:
        """Mark the article failed with a problem object saying why.

        A ``permanent`` failure is one of the text itself: it is cached like a result, and
        submitting the article again answers with it instead of queueing it again.
        """

        def apply(pipe: Pipeline, article: Article) -> None:
            key = article_key(article_id)
            fields_ = {"status": FAILED, "finished_at": now_rfc3339(), "problem": json.dumps(problem)}
            if permanent:
                fields_["failure"] = PERMANENT
            pipe.hset(key, mapping=fields_)
            pipe.expire(key, self.result_ttl)
            pipe.publish(events_channel(article_id), FAILED)
            if self.on_settled is not None:
                self.on_settled(pipe, article_id, FAILED, {"problem": problem})

        return self._transition(article_id, job_id, apply) is not None

    def record_page(
        self, article_id: str, job_id: str | None, text: str, published_at: str | None, page_metadata: dict[str, str]
    ) -> Article | None:
        """Store what the fetch of an article's page found (shared by every owner of the URL's
        article); None when the job was superseded."""
        fields_ = {"text": text, "published_at": published_at, "page_metadata": page_metadata or None}

        def apply(pipe: Pipeline, article: Article) -> None:
            key = article_key(article_id)
            found = replace(article, **fields_).to_hash()
            pipe.hset(key, mapping={name: found[name] for name in fields_ if name in found})
            pipe.expire(key, self.result_ttl)

        article = self._transition(article_id, job_id, apply)
        return replace(article, **fields_) if article is not None else None

    def requeue(self, article_id: str, job_id: str | None) -> bool:
        """Back to queued: the job failed in a way RQ retries."""

        def apply(pipe: Pipeline, article: Article) -> None:
            key = article_key(article_id)
            pipe.hset(key, "status", QUEUED)
            pipe.hdel(key, "started_at")
            pipe.expire(key, self.result_ttl)

        return self._transition(article_id, job_id, apply) is not None

    def _transition(
        self,
        article_id: str,
        job_id: str | None,
        apply: Callable[[Pipeline, Article], None],
    ) -> Article | None:
        """Run ``apply`` in a transaction if the article is pending and owned by ``job_id``."""
        key = article_key(article_id)

        def attempt(pipe: Pipeline) -> Article | None:
            raw = pipe.hgetall(key)
            article = Article.from_hash(raw) if raw else None
            if (
                article is None
                or article.status not in PENDING
                or (job_id is not None and article.job_id != job_id)
            ):
                return None
            pipe.multi()
            apply(pipe, article)
            pipe.hset(key, mapping=_revised())
            pipe.execute()
            return article

        return self._watched((key,), attempt)

    def _watched(self, keys: tuple[str, ...], attempt: Callable[[Pipeline], T]) -> T:
        """Run ``attempt`` on a pipeline watching ``keys``; again when one changed before its MULTI ran."""
        for _ in range(MAX_OPTIMISTIC_RETRIES):
            with self.redis.pipeline() as pipe:
                try:
                    pipe.watch(*keys)
                    return attempt(pipe)
                except WatchError:
                    continue
        raise WatchError(f"{keys[0]}: too much contention")


def _new_article(article_id: str, fields_: dict[str, Any], job_id: str) -> Article:
    published_at = fields_.get("published_at")
    return Article(
        id=article_id,
        status=QUEUED,
        text=fields_["text"],
        language=fields_["language"],
        extractor_version=EXTRACTOR_VERSION,
        created_at=now_rfc3339(),
        job_id=job_id,
        title=fields_.get("title"),
        url=fields_.get("url"),
        publisher=fields_.get("publisher"),
        published_at=rfc3339(published_at) if published_at else None,
        metadata=fields_.get("metadata"),
        author=fields_.get("author"),
        source=fields_.get("source"),
        page_url=fields_.get("page_url"),
    )


def holds_done(raw: dict[bytes, bytes], body: bytes | None, owner: str) -> bool:
    """Whether ``owner`` submitted the article of hash ``raw`` and it is done, with its document
    ``body``: ``owner`` submitting it again (no Idempotency-Key, no refresh) writes nothing and
    is answered the article (:meth:`ArticleStore.submit`, and :mod:`service.hot_resubmissions`)."""
    return body is not None and raw.get(b"status") == DONE.encode() and owner_field(owner).encode() in raw


def seen_by(raw: dict[bytes, bytes], body: bytes | None, owner: str) -> tuple[Article | None, StoredResult | None]:
    """An article's hash and stored document as ``owner`` sees them: (None, None) unless it submitted
    the article; the result only when the article is done."""
    if not _visible(raw, owner):
        return None, None
    article = _as_seen_by(raw, owner)
    return article, _result_of(raw, body) if article.status == DONE else None


def _result_of(raw: dict[bytes, bytes], body: bytes | None) -> StoredResult | None:
    """The stored result of an article hash ``raw``, with the result fields the hash holds."""
    return StoredResult.from_redis(body, *(raw.get(name.encode()) for name in RESULT_FIELDS))


def _revised() -> dict[str, str]:
    """The field that marks a write of an article hash: written in the transaction of every write."""
    return {REVISION_FIELD: secrets.token_hex(8)}


def _fingerprint(fields_: dict[str, Any]) -> str:
    """A digest of the whole request, to tell a replay from a reused Idempotency-Key."""
    canonical = json.dumps(fields_, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
