"""/v1/articles: submit an article, read its status and claims, delete it.

Reads of a done article carry a strong ETag and answer ``If-None-Match`` with 304. The
unfiltered claims of an article whose claims fit one page are the stored claims document,
served as stored, read in the round trip of the request's checks (:mod:`service.article_reads`),
and a 304 without reading the document.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from flask import Blueprint, Response, request, url_for
from marshmallow import ValidationError

from service.access import caller
from service.article_reads import ARTICLE_ID, article_and_body, stored_claims
from service.claims_document import article_body, dumps, entity_tag, render_page
from service.blueprints.pages import article_page, claims_jsonld
from service.context import services
from service.negotiation import HTML, JSON, JSONLD, preferred
from service.problems import ARTICLE_NOT_DONE, ProblemError
from service.representations import ARTICLES_PATH, article_path
from service.schemas import CLAIMS_QUERY
from service.store import DONE, PENDING, Article, StoredResult, Submission, seen_by
from service.view_links import view_link
from service.submission import submit_article

bp = Blueprint("articles", __name__, url_prefix=ARTICLES_PATH)

POLL_AFTER_SECONDS = "1"
JSON_MEDIA_TYPE = "application/json"


@bp.post("")
def create() -> Response:
    return submission_response(submit_article(request))


@bp.get("/<article_id>")
def show(article_id: str) -> Response:
    article, result = article_and_result(article_id)
    wanted = preferred(JSON, JSONLD, HTML)
    if wanted == HTML:
        return article_page(article, result)
    if wanted == JSONLD:
        if result is None:
            raise _not_done(article)
        return claims_jsonld(article, result.document()["claims"])
    body = article_body(article, result, view_link(article.id))
    return _json(body, entity_tag(body))


@bp.delete("/<article_id>")
def delete(article_id: str) -> Response:
    if not ARTICLE_ID.fullmatch(article_id) or not services().store.delete(article_id, caller().owner):
        raise _not_found(article_id)
    return Response(status=204)


@bp.get("/<article_id>/claims")
def claims(article_id: str) -> Response:
    if not request.args and ARTICLE_ID.fullmatch(article_id) and preferred(JSON, JSONLD) == JSON:
        stored = _stored_claims(article_id)
        if stored is not None:
            return stored
    query = CLAIMS_QUERY.load(request.args.to_dict())
    article, stored_result = article_and_result(article_id)
    if stored_result is None:
        raise _not_done(article)
    result = stored_result.document()
    digest = _filters_digest(article_id, query)
    start = _decode_cursor(query.get("cursor"), digest)
    matching = [(i, c) for i, c in enumerate(result["claims"]) if _matches(c, query)]
    remaining = [(i, c) for i, c in matching if i >= start]
    page = remaining[: query["limit"]]
    next_cursor = _encode_cursor(page[-1][0] + 1, digest) if len(remaining) > len(page) else None
    next_link = None
    if next_cursor:
        params = {k: v for k, v in request.args.items() if k != "cursor"}
        next_link = url_for("articles.claims", article_id=article_id, cursor=next_cursor, **params)
    if preferred(JSON, JSONLD) == JSONLD:
        response = claims_jsonld(article, [c for _, c in page])
        if next_link:
            response.headers["Link"] = f'<{next_link}>; rel="next"'
        return response
    body, _ = render_page(
        article_id,
        result["extractor_version"],
        result["detected_language"],
        len(matching),
        dumps([c for _, c in page]),
        next_cursor,
        next_link,
    )
    return _json(body, entity_tag(body))


def _stored_claims(article_id: str) -> Response | None:
    """The stored claims document as read by the request gate, or a 304 when If-None-Match holds
    its ETag (the document was then not read); None when it cannot be served as stored."""
    stored = stored_claims(article_id)
    if stored is None:
        return None
    if stored.result is None:
        return _not_modified(stored.etag)
    return _json(stored.result.body, stored.etag)


def _json(body: bytes, etag: str | None = None) -> Response:
    """A JSON response; with ``etag``, a 304 instead when the request's If-None-Match has it."""
    if etag is not None and request.if_none_match.contains_weak(etag):
        return _not_modified(etag)
    response = Response(body, mimetype=JSON_MEDIA_TYPE)
    if etag is not None:
        response.set_etag(etag)
    return response


def _not_modified(etag: str) -> Response:
    response = Response(status=304)
    response.set_etag(etag)
    return response


@bp.after_request
def _vary_on_accept(response: Response) -> Response:
    """The article and its claims come as JSON, JSON-LD or a page, by ``Accept``."""
    if "Vary" in response.headers:
        response.vary.add("Accept")
    else:  # as ``vary.add`` writes it, without parsing a header that is not there
        response.headers["Vary"] = "Accept"
    return response


def submission_response(submission: Submission) -> Response:
    """202 with Location while the extraction is pending; 200 with the article when settled."""
    article = submission.article
    response = Response(article_body(article, submission.result, view_link(article.id)), mimetype=JSON_MEDIA_TYPE)
    if article.status in PENDING:
        response.status_code = 202
        response.headers["Location"] = article_path(article.id)
    else:
        response.headers["Content-Location"] = article_path(article.id)
    return response


def article_and_result(article_id: str) -> tuple[Article, StoredResult | None]:
    """The article as the caller submitted it, with its claims document when done; 404 when
    unknown, expired or only others'."""
    article, result = None, None
    if ARTICLE_ID.fullmatch(article_id):
        read = article_and_body(article_id)
        store, owner = services().store, caller().owner
        article, result = seen_by(*read, owner) if read is not None else store.get_with_result(article_id, owner)
    if article is None or (article.status == DONE and result is None):
        raise _not_found(article_id)
    return article, result


def _not_found(article_id: str) -> ProblemError:
    return ProblemError(404, detail=f"There is no article {article_id!r} (unknown, deleted or expired).")


def _not_done(article: Article) -> ProblemError:
    if article.status in PENDING:
        return ProblemError(
            409,
            ARTICLE_NOT_DONE,
            f"The article is {article.status}; its claims are not extracted yet.",
            headers={"Retry-After": POLL_AFTER_SECONDS},
            extensions={"article_status": article.status},
        )
    reason = (article.problem or {}).get("detail", "")
    return ProblemError(
        409,
        ARTICLE_NOT_DONE,
        f"The extraction failed: {reason}".strip(),
        extensions={"article_status": article.status},
    )


def _matches(claim: dict[str, Any], query: dict[str, Any]) -> bool:
    if "type" in query and claim["type"] != query["type"]:
        return False
    if "min_checkworthiness" in query and claim["checkworthiness"] < query["min_checkworthiness"]:
        return False
    if "claimant" in query:
        claimant = claim.get("claimant") or {}
        needle = query["claimant"].casefold()
        haystacks = (claimant.get("text", ""), claimant.get("resolved", ""))
        return any(needle in h.casefold() for h in haystacks)
    return True


def _filters_digest(article_id: str, query: dict[str, Any]) -> str:
    """Binds a cursor to its article and filters, so it cannot be replayed elsewhere."""
    filters = [article_id] + [str(query.get(k)) for k in ("claimant", "type", "min_checkworthiness")]
    return hashlib.sha256("\n".join(filters).encode()).hexdigest()[:16]


def _encode_cursor(position: int, digest: str) -> str:
    raw = json.dumps({"p": position, "f": digest}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None, digest: str) -> int:
    if cursor is None:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if data["f"] == digest and isinstance(data["p"], int) and data["p"] >= 0:
            return data["p"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        pass
    raise ValidationError({"cursor": ["Not a cursor of this article with these filters."]})
