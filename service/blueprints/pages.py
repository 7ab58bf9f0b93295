"""The human side of the API: the article page, the submission page, signed view links.

``GET /v1/articles/{id}`` answers a browser (``Accept: text/html``) with the article's
page: its text with every claim marked in place and the claims listed beside it. The
page is rendered by Jinja2 with autoescape on, uses only the package's own stylesheet
and script, and is sent with a strict Content-Security-Policy, so article text cannot
become markup or script. ``links.view`` of the JSON representation is a signed link to
the same page for a browser that cannot send the API key (:mod:`service.view_links`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, render_template, request

from service.context import EXTENSION_NAME, services
from service.jsonld import CONTEXT_PATH, claims_document, claimwire_context
from service.jsonld import MEDIA_TYPE as JSONLD_MEDIA_TYPE
from service.markup import marked_up
from service.store import DONE, Article, StoredResult
from service.view_links import EXTENSION, ViewLinks

bp = Blueprint("pages", __name__, template_folder="../templates", static_folder="../static", static_url_path="/static")

PENDING_REFRESH_SECONDS = 2
TYPE_CLASS = {"direct": "quoted", "indirect": "reported", "mixed": "mixed"}
TYPE_LABEL = {"direct": "quoted", "indirect": "reported", "mixed": "partly quoted"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# The pages anyone may fetch without an API key: the form, the page's files, the JSON-LD context.
OPEN_ENDPOINTS = frozenset({"pages.home", "pages.static", "pages.jsonld_context"})
VIEW_ENDPOINT = "pages.view"


def init_pages(app: Flask) -> None:
    shared = app.extensions[EXTENSION_NAME]
    app.extensions[EXTENSION] = ViewLinks(shared.redis, shared.config.view_link_ttl, shared.config.view_secret)
    app.register_blueprint(bp)


@bp.after_request
def _secure(response: Response) -> Response:
    return with_security_headers(response)


def with_security_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


@bp.get("/")
def home() -> Response:
    response = Response(render_template("home.html", keys_required=services().keys.required()), mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/v1/articles/<article_id>/view")
def view(article_id: str) -> Response:
    """The article's page for the holder of a signed link (checked before this runs, in access)."""
    from service.blueprints.articles import article_and_result

    article, result = article_and_result(article_id)
    return article_page(article, result)


@bp.get(CONTEXT_PATH)
def jsonld_context() -> Response:
    response = current_app.json.response(claimwire_context())
    response.mimetype = JSONLD_MEDIA_TYPE
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["Access-Control-Allow-Origin"] = "*"  # JSON-LD processors elsewhere fetch it
    return response


def article_page(article: Article, result: StoredResult | None) -> Response:
    """The article's HTML page, whatever its status (it reloads itself while pending)."""
    claims = result.document()["claims"] if article.status == DONE and result is not None else None
    refresh = PENDING_REFRESH_SECONDS if claims is None and article.status != "failed" else None
    html = render_template(
        "article.html",
        article=article,
        claims=claims,
        marked=marked_up(article.text, claims or []),
        claimants=sorted({speaker(c) for c in claims or [] if speaker(c)}, key=str.casefold),
        speaker=speaker,
        type_class=TYPE_CLASS,
        type_label=TYPE_LABEL,
        source_url=safe_link(article.url),
        refresh=refresh,
    )
    response = with_security_headers(Response(html, mimetype="text/html"))
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Accept")
    return response


def claims_jsonld(article: Article, claims: list[dict[str, Any]]) -> Response:
    """The claims as schema.org ``Claim`` objects (JSON-LD)."""
    response = current_app.json.response(claims_document(article, claims, request.host_url))
    response.mimetype = JSONLD_MEDIA_TYPE
    response.vary.add("Accept")
    return response


def speaker(claim: dict[str, Any]) -> str:
    """Who makes the claim, as resolved (or as written when it could not be resolved)."""
    claimant = claim.get("claimant") or {}
    return claimant.get("resolved") or claimant.get("text") or ""


def safe_link(url: str | None) -> str | None:
    """``url`` when it is an http(s) address a page may link to; never ``javascript:`` and the like."""
    if not url:
        return None
    return url if urlsplit(url).scheme.lower() in ("http", "https") else None
