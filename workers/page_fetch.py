"""The step of the extraction job that fetches an article submitted by URL.

Runs in the worker, before the claims are extracted: the page is fetched through the
SSRF guard (:mod:`service.fetching`), trafilatura extracts its text and metadata (a
``text/plain`` page is taken as it is), and the result is stored on the article before
the pipeline sees it: the text, the publication time (unless the client sent one, which is
part of the article's id) and the page's title, author and publisher, which each owner
sees where it sent none of its own. A fetch that fails ends the article ``failed`` with a
``/problems/fetch-failed`` problem saying why. It is not retried by the job, and it is not
a permanent failure either: it says nothing about the article's text (there is none yet)
and the page may answer next time, so submitting the URL again fetches it again.
"""

from __future__ import annotations

import logging
from typing import Any

from service.config import Config
from service.fetching.client import FetchFailed, Page, outgoing_http
from service.html_articles import NoArticleText, extract_from_html
from service.problems import FETCH_FAILED, problem_body
from service.store import PAGE_METADATA_FIELDS, Article, ArticleStore, rfc3339

log = logging.getLogger(__name__)

# The submitted URL did not lead to an article: the client's input, not this service, is at
# fault (and /v1/extract answers a failed article with its problem's status).
FETCH_FAILED_STATUS = 422


def fetch_article_text(store: ArticleStore, article: Article, job_id: str | None, config: Config) -> Article | None:
    """The article with the fetched page's text and metadata, or None when it failed or was superseded."""
    try:
        page = outgoing_http(config).fetch_page(article.page_url or "")
        extracted = _page_fields(page)
    except FetchFailed as exc:
        log.info("article %s: fetching %s failed: %s", article.id, article.page_url, exc)
        store.fail(article.id, job_id, fetch_problem(exc.reason, str(exc), exc.http_status, exc.address_class))
        return None
    except NoArticleText as exc:
        store.fail(article.id, job_id, fetch_problem("no-article", str(exc)))
        return None
    if len(extracted["text"]) > config.max_text_chars:
        detail = f"The page's text is longer than {config.max_text_chars} characters."
        store.fail(article.id, job_id, fetch_problem("too-large", detail))
        return None
    found = extracted.get("published_at")
    published_at = article.published_at or (rfc3339(found) if found else None)
    page_metadata = {name: extracted[name] for name in PAGE_METADATA_FIELDS if extracted.get(name)}
    return store.record_page(article.id, job_id, extracted["text"], published_at, page_metadata)


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
