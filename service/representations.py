"""The JSON the API answers with for an article (POST, GET, /v1/extract share it)."""

from __future__ import annotations

from typing import Any

from service.article_sources import HTML, TEXT, URL
from service.store import FAILED, Article

ARTICLES_PATH = "/v1/articles"
EXTRACTED_SOURCES = (HTML, URL)


def article_path(article_id: str) -> str:
    return f"{ARTICLES_PATH}/{article_id}"


def claims_path(article_id: str) -> str:
    return f"{article_path(article_id)}/claims"


def article_view(article: Article, page_link: str) -> dict[str, Any]:
    """Status, timestamps and descriptive fields, with ``page_link`` (the caller's signed page
    link, :mod:`service.view_links`); the problem when failed.

    The claims of a done article come last, spliced in from the stored claims document
    (:func:`service.claims_document.with_claims`). Text the client sent is not echoed back:
    the client has it, and it can be a megabyte. Text the service extracted (from HTML or a
    fetched page) is shown once there is some, since the claim offsets index into it.
    """
    view: dict[str, Any] = {
        "id": article.id,
        "status": article.status,
        "extractor_version": article.extractor_version,
        "created_at": article.created_at,
        "started_at": article.started_at,
        "finished_at": article.finished_at,
        "attempts": article.attempts,
        "language": article.language,
        "title": article.title,
        "url": article.url,
        "publisher": article.publisher,
        "author": article.author,
        "source": article.source or TEXT,
        "published_at": article.published_at,
        "metadata": article.metadata,
        "links": {"self": article_path(article.id), "claims": claims_path(article.id), "view": page_link},
    }
    if article.source in EXTRACTED_SOURCES and article.text:
        view["text"] = article.text
    if article.status == FAILED:
        view["problem"] = article.problem
    return view
