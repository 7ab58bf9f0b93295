"""The claims document: the JSON body of ``GET /v1/articles/{id}/claims``.

The worker renders it once, unfiltered and unpaginated, when an extraction is done, and
the store keeps those bytes with a strong entity tag (a digest of them) and the position of the
claims array inside them. An unfiltered read of an article whose claims fit one page is
then answered with the stored bytes as they are, and an article's own representation
splices the stored claims array in, so that no request parses or re-serialises the claims.
Filtered and paginated reads render a page with the same function, from the parsed claims.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from service.representations import article_path, article_view
from service.store import DONE, Article, StoredResult

CLAIMS_KEY = b',"claims":'


def dumps(value: Any) -> bytes:
    """Compact JSON, as every body of the API is written."""
    return json.dumps(value, separators=(",", ":")).encode()


def entity_tag(body: bytes) -> str:
    """A strong entity tag (unquoted): a digest of the exact bytes served."""
    return hashlib.sha256(body).hexdigest()[:32]


def render_page(
    article_id: str,
    extractor_version: str,
    detected_language: str,
    total: int,
    claims_json: bytes,
    next_cursor: str | None = None,
    next_link: str | None = None,
) -> tuple[bytes, tuple[int, int]]:
    """A page of claims (``claims_json`` is their JSON array) and where that array is in it."""
    head = dumps({"article_id": article_id, "extractor_version": extractor_version, "detected_language": detected_language,
                  "total": total})[:-1] + CLAIMS_KEY
    links = {"article": article_path(article_id), "next": next_link}
    tail = b"," + dumps({"next_cursor": next_cursor, "links": links})[1:]
    return head + claims_json + tail, (len(head), len(head) + len(claims_json))


def build(article_id: str, extraction: dict[str, Any]) -> StoredResult:
    """The document to store for a finished extraction (a JSON-ready ``ExtractionSchema`` dump)."""
    claims = extraction["claims"]
    body, span = render_page(article_id, extraction["extractor_version"], extraction["detected_language"], len(claims),
                             dumps(claims))
    return StoredResult(body, entity_tag(body), span, len(claims))


def article_body(article: Article, result: StoredResult | None, page_link: str) -> bytes:
    """The JSON of an article: :func:`article_view`, and the stored claims when done (the same bytes under Flask and below it)."""
    view = article_view(article, page_link)
    if article.status == DONE and result is not None:
        return with_claims(view, result.claims_json())
    return dumps(view)


def with_claims(view: dict[str, Any], claims_json: bytes) -> bytes:
    """The JSON of ``view`` with a last member ``claims`` whose JSON is given as it is."""
    return dumps(view)[:-1] + CLAIMS_KEY + claims_json + b"}"
