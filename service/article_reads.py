"""The hot reads' article, read by the request gate in the round trip of the request's checks.

``GET /v1/articles/{id}``, and a filtered or paginated ``GET /v1/articles/{id}/claims``,
need the article's hash and its claims document. The unfiltered
JSON ``GET /v1/articles/{id}/claims`` needs the document's ETag and, unless
``If-None-Match`` holds that ETag, the document: served as stored when the article is
done, its caller's, and its claims fit one page. :func:`planned_read` says what to read
for the current request (:mod:`service.access` hands it to the gate); the views take
what was read from here, and read themselves when nothing was (another request shape).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import g
from werkzeug.datastructures import ETags

from service.context import current_request
from service.negotiation import JSON, JSONLD, preferred
from service.held_documents import HeldDocuments
from service.request_gate import ARTICLE, CLAIMS, HELD, HELD_ARTICLE, Read
from service.schemas import DEFAULT_PAGE_SIZE
from service.store import ETAG_FIELD, StoredResult, article_key, result_key

ARTICLE_ID = re.compile(r"[0-9a-f]{32}")
ARTICLE_ENDPOINT, CLAIMS_ENDPOINT = "articles.show", "articles.claims"
READ_ATTRIBUTE = "article_read"


@dataclass(frozen=True, slots=True)
class StoredClaims:
    """The stored claims document of a done article: its ETag, and the document unless the
    request's If-None-Match held the ETag (then it was not read)."""

    etag: str
    result: StoredResult | None


def planned_read() -> Read | None:
    """What the current request reads of its article, when it is one of the hot reads."""
    req = current_request()
    article_id = (req.view_args or {}).get("article_id", "")
    if not ARTICLE_ID.fullmatch(article_id):
        return None
    if req.endpoint == CLAIMS_ENDPOINT and not req.args and preferred(JSON, JSONLD) == JSON:
        return claims_read(article_id, req.if_none_match)
    if req.endpoint in (ARTICLE_ENDPOINT, CLAIMS_ENDPOINT):  # a filtered or paginated page is cut from it
        return article_read(article_id)
    return None


def claims_read(article_id: str, if_none_match: ETags, held: str = "") -> Read:
    """The read of an article's stored claims document, spared when ``if_none_match`` holds its
    ETag, and not sent when it is ``held``."""
    return Read(
        CLAIMS, article_key(article_id), result_key(article_id), DEFAULT_PAGE_SIZE,
        tuple(if_none_match.as_set(include_weak=True)), if_none_match.star_tag, held,
    )


def article_read(article_id: str, held: str = "", revision: str = "") -> Read:
    """The read of an article's hash and claims document, the document not sent when it is ``held``,
    neither sent while the hash is at the ``revision`` rendered here."""
    return Read(ARTICLE, article_key(article_id), result_key(article_id), held=held, revision=revision)


def is_held_article(values: list[bytes | int | None]) -> bool:
    """Whether the gate's article read found the hash at the revision rendered here (and sent only
    whether the document exists)."""
    return bool(values) and values[0] == HELD_ARTICLE


def with_held_document(
    read: Read, values: list[bytes | int | None], article_id: str, documents: HeldDocuments
) -> list[bytes | int | None] | None:
    """What the gate read, with the document it did not send (:data:`HELD`) taken from
    ``documents``, and a document it sent held there; None when the document it did not
    send is no longer held (let go since), so the read is to be made anew."""
    if read.kind == CLAIMS and values:
        etag, span, total, matched, body = values
        if matched == HELD:
            body = documents.body(article_id, etag.decode())  # type: ignore[union-attr]
            return None if body is None else [etag, span, total, 0, body]
        if body is not None:
            documents.hold(article_id, etag.decode(), body)  # type: ignore[union-attr, arg-type]
    elif read.kind == ARTICLE and not is_held_article(values):
        fields, body = as_article_and_body(values)
        etag = fields.get(ETAG_FIELD.encode())
        if body == HELD:
            body = documents.body(article_id, etag.decode()) if etag else None
            return None if body is None else [body, *values[1:]]
        if body is not None and etag is not None:
            documents.hold(article_id, etag.decode(), body)  # type: ignore[arg-type]
    return values


def keep(read: Read, values: list[bytes | int | None]) -> None:
    """Hold what the gate read for the view."""
    setattr(g, READ_ATTRIBUTE, (read, values))


def stored_claims(article_id: str) -> StoredClaims | None:
    """The prefetched claims document of ``article_id`` when it can be served as stored; else None
    (not read, or not done, not the caller's, stored without an ETag, or over a page)."""
    values = _values(CLAIMS, article_id)
    return as_stored_claims(values) if values else None  # else not read, or not to be served as stored


def as_stored_claims(values: list[bytes | int | None]) -> StoredClaims | None:
    """What the gate's claims read found: the document to serve as stored, or None."""
    if not values:  # not done, not the caller's, stored without an ETag, or over a page
        return None
    etag, span, total, matched, body = values
    if not matched and body is None:  # expired between the article and its document
        return None
    result = StoredResult.from_redis(body, etag, span, total) if not matched else None  # type: ignore[arg-type]
    return StoredClaims(etag.decode(), result)  # type: ignore[union-attr]


def article_and_body(article_id: str) -> tuple[dict[bytes, bytes], bytes | None] | None:
    """The prefetched hash and claims document of ``article_id``; None when they were not read."""
    values = _values(ARTICLE, article_id)
    return None if values is None else as_article_and_body(values)


def as_article_and_body(values: list[bytes | int | None]) -> tuple[dict[bytes, bytes], bytes | None]:
    """What the gate's article read found: the article's hash and its claims document."""
    body, fields = values[0], values[1:]
    return dict(zip(fields[::2], fields[1::2])), body  # type: ignore[arg-type]


def _values(kind: str, article_id: str) -> list[bytes | int | None] | None:
    kept = g.get(READ_ATTRIBUTE)
    if kept is None or kept[0].kind != kind or kept[0].article_key != article_key(article_id):
        return None
    return kept[1]
