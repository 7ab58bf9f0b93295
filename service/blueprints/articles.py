"""/v1/articles: submit an article, read its status and claims, delete it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from marshmallow import ValidationError

from service.access import caller
from service.context import services
from service.problems import ARTICLE_NOT_DONE, ProblemError
from service.representations import ARTICLES_PATH, article_path, article_view
from service.schemas import ClaimsQuerySchema
from service.store import DONE, PENDING, Article, Submission
from service.submission import submit_article

bp = Blueprint("articles", __name__, url_prefix=ARTICLES_PATH)

ARTICLE_ID = re.compile(r"[0-9a-f]{32}")
POLL_AFTER_SECONDS = "1"


@bp.post("")
def create() -> Response:
    return submission_response(submit_article(request))


@bp.get("/<article_id>")
def show(article_id: str) -> Response:
    article, result = article_and_result(article_id)
    return jsonify(article_view(article, result))


@bp.delete("/<article_id>")
def delete(article_id: str) -> Response:
    if not ARTICLE_ID.fullmatch(article_id) or not services().store.delete(article_id, caller().owner):
        raise _not_found(article_id)
    return Response(status=204)


@bp.get("/<article_id>/claims")
def claims(article_id: str) -> Response:
    query = ClaimsQuerySchema().load(request.args.to_dict())
    article, result = article_and_result(article_id)
    if result is None:
        raise _not_done(article)
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
    return jsonify(
        {
            "article_id": article_id,
            "extractor_version": result["extractor_version"],
            "language": result["language"],
            "total": len(matching),
            "claims": [c for _, c in page],
            "next_cursor": next_cursor,
            "links": {"article": article_path(article_id), "next": next_link},
        }
    )


def submission_response(submission: Submission) -> Response:
    """202 with Location while the extraction is pending; 200 with the article when settled."""
    article = submission.article
    response = jsonify(article_view(article, submission.result))
    if article.status in PENDING:
        response.status_code = 202
        response.headers["Location"] = article_path(article.id)
    else:
        response.headers["Content-Location"] = article_path(article.id)
    return response


def article_and_result(article_id: str) -> tuple[Article, dict[str, Any] | None]:
    """The article, with its extraction when done; 404 when unknown, expired or another key's."""
    store = services().store
    article = store.get(article_id, caller().owner) if ARTICLE_ID.fullmatch(article_id) else None
    result = store.get_result(article_id) if article and article.status == DONE else None
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
