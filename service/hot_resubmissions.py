"""The resubmission of an article already extracted, answered below Flask.

A CMS posts an article again on every save. When its caller already holds the article,
done, and the request asks for nothing new (no ``Idempotency-Key``, no ``refresh``),
:meth:`~service.store.ArticleStore.submit` writes nothing and the answer is the
article as the caller sees it: the body of ``GET /v1/articles/{id}``. What costs is
getting there: Flask, decoding the JSON and validating it with marshmallow, and a second
Redis round trip, which took more than half of such a request's CPU (``bench/read_cost.py``).

So each API process remembers, for the exact bytes of a JSON body it accepted without
``refresh``, which article they made (:class:`AcceptedBodies`, keyed by their SHA-256).
The bytes decide the outcome of decoding, validation and the article's id, so the same
bytes again are the same article. :mod:`service.hot_reads` answers such a body itself
when the caller holds that article, done, reading the article in the request gate's round
trip; anything else (a new body, another state, any
other header that matters) goes to Flask with what was already done: the gate's passage
and the body read (taken by :func:`service.request_limits.read_body`).
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from cachetools import LRUCache
from flask import has_request_context, request

REMEMBERED_BODIES = 4096  # per API process: 32-byte digests and 32-character ids
# The environ key under which the hot layer tells Flask where to remember the body it read, once
# Flask has accepted it (the body itself is handed under :data:`service.request_limits.PRE_READ`).
ACCEPTED = "claimwire.accepted_body"
JSON_BODY = "application/json"


class AcceptedBodies:
    """The article each accepted JSON body made, by the SHA-256 of the body's bytes."""

    def __init__(self, size: int = REMEMBERED_BODIES) -> None:
        self._ids: LRUCache[bytes, str] = LRUCache(size)
        self._lock = threading.Lock()

    def article_of(self, digest: bytes) -> str | None:
        with self._lock:
            return self._ids.get(digest)

    def remember(self, digest: bytes, article_id: str) -> None:
        with self._lock:
            self._ids[digest] = article_id


def digest_of(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()


def is_resubmission_shape(environ: dict[str, Any]) -> bool:
    """A JSON body of a known length, with credentials, without ``Idempotency-Key`` or a query:
    what may be a resubmission answered below Flask (its body is still to be read and looked up).

    A request without credentials goes to Flask, whose gate answers it (401, or the open API's
    submission) before any of its body is read."""
    return (
        bool(environ.get("HTTP_AUTHORIZATION"))
        and environ.get("CONTENT_TYPE") == JSON_BODY
        and (environ.get("CONTENT_LENGTH") or "").isdigit()
        and "HTTP_IDEMPOTENCY_KEY" not in environ
        and "HTTP_TRANSFER_ENCODING" not in environ
        and not environ.get("QUERY_STRING")
    )


def remember_accepted(article_id: str) -> None:
    """After Flask accepted the current request's body without ``refresh`` or ``Idempotency-Key``:
    remember which article it made, when the hot layer read that body (a batch's items are
    submitted outside any request context: nothing to remember)."""
    if not has_request_context():
        return
    handed: tuple[AcceptedBodies, bytes] | None = request.environ.get(ACCEPTED)
    if handed is not None:
        bodies, digest = handed
        bodies.remember(digest, article_id)
