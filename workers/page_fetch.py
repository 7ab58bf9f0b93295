"""The step of the extraction job that fetches an article submitted by URL.

Runs in the worker, before the claims are extracted: the page is fetched through the
SSRF guard (:mod:`service.fetching`), trafilatura extracts its text and metadata (a
``text/plain`` page is taken as it is), the client's own fields win, and the result is
stored on the article before the pipeline sees it. A fetch that fails ends the article
``failed`` with a ``/problems/fetch-failed`` problem saying why; it is not retried
(the client can submit the URL again with ``refresh``).
"""

from __future__ import annotations

import logging
from typing import Any

from service.config import Config
from service.fetching.client import FetchFailed, Page, outgoing_http
from service.html_articles import NoArticleText, extract_from_html, merge_extracted
from service.problems import FETCH_FAILED, problem_body
from service.store import Article, ArticleStore, rfc3339

log = logging.getLogger(__name__)

CLIENT_FIELDS = ("title", "author", "publisher", "published_at")
# The submitted URL did not lead to an article: the client's input, not this service, is at
# fault (and /v1/extract answers a failed article with its problem's status).
FETCH_FAILED_STATUS = 422


def fetch_article_text(store: ArticleStore, article: Article, job_id: str | None, config: Config) -> Article | None:
    """The article with the fetched page's text and metadata, or None when it failed or was superseded."""
    try:
        page = outgoing_http(config).fetch_page(article.url or "")
        extracted = _page_fields(page)
    except FetchFailed as exc:
        log.info("article %s: fetching %s failed: %s", article.id, article.url, exc)
        store.fail(article.id, job_id, fetch_problem(exc.reason, str(exc), exc.http_status, exc.address_class))
        return None
    except NoArticleText as exc:
        store.fail(article.id, job_id, fetch_problem("no-article", str(exc)))
        return None
    if len(extracted["text"]) > config.max_text_chars:
        detail = f"The page's text is longer than {config.max_text_chars} characters."
        store.fail(article.id, job_id, fetch_problem("too-large", detail))
        return None
    published = extracted.get("published_at")
    extracted["published_at"] = rfc3339(published) if published else None
    sent = {name: getattr(article, name) for name in CLIENT_FIELDS}
    return store.record_text(article.id, job_id, merge_extracted(sent, extracted))


def fetch_problem(
    reason: str, detail: str, http_status: int | None = None, address_class: str | None = None
) -> dict[str, Any]:
    extensions: dict[str, Any] = {"reason": reason}
    if http_status is not None:
        extensions["http_status"] = http_status
    if address_class is not None:
        extensions["address_class"] = address_class
    return problem_body(FETCH_FAILED_STATUS, FETCH_FAILED, detail, **extensions)


def _page_fields(page: Page) -> dict[str, Any]:
    if page.media_type == "text/plain":
        text = page.body.decode(page.charset or "utf-8", errors="replace").strip()
        if not text:
            raise NoArticleText("The page is empty.")
        return {"text": text}
    return extract_from_html(page.body, page.url)
