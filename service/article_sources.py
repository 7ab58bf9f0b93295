"""What a submitted article is made of: its text, its HTML, or a URL to fetch it from.

* ``text``: the article as sent (``source: text``); the id comes from the text.
* ``html`` (JSON member, or a ``text/html`` body): trafilatura extracts the text and
  metadata here, in the API, and the article goes on as if that text had been sent
  (``source: html``); fields the client sent win over the extracted ones.
* a ``url`` and neither: the worker fetches the page (``source: url``, text empty until
  then). Its id is derived from the URL and the publication time the client sent, if any
  (see :func:`url_article_id`), so the same URL submitted again while the article lives
  (``CLAIMWIRE_RESULT_TTL``) answers with that article, unless ``refresh`` asks for a new
  fetch.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from marshmallow import ValidationError

from service.html_articles import NoArticleText, extract_from_html, merge_extracted
from service.off_loop import off_the_event_loop
from service.store import rfc3339
from workers.version import EXTRACTOR_VERSION

TEXT, HTML, URL = "text", "html", "url"
SOURCES: tuple[str, ...] = (TEXT, HTML, URL)
DEFAULT_PORT_SUFFIX = {"http": ":80", "https": ":443"}


@dataclass(frozen=True, slots=True)
class Prepared:
    """Fields for :meth:`ArticleStore.submit`, with the id it should use and whether to refresh."""

    fields: dict[str, Any]
    article_id: str | None = None
    refresh: bool = False


def prepare(loaded: dict[str, Any]) -> Prepared:
    """Turn a loaded submission into stored fields; 422 (ValidationError) when HTML has no article."""
    fields_ = dict(loaded)
    refresh = fields_.pop("refresh", False)
    html = fields_.pop("html", None)
    if "text" in fields_:
        return Prepared({**fields_, "source": TEXT})
    if html is not None:
        try:
            extracted = off_the_event_loop(extract_from_html, html, fields_.get("url"))
        except NoArticleText as exc:
            raise ValidationError({"html": [str(exc)]}) from None
        return Prepared({**merge_extracted(fields_, extracted), "source": HTML})
    url = fields_["url"]
    article_id = url_article_id(url, fields_.get("published_at"))
    return Prepared({**fields_, "text": "", "source": URL, "page_url": url}, article_id, refresh)


def url_article_id(url: str, published_at: datetime | None = None) -> str:
    """SHA-256 of the extractor version, the publication time the client sent (if any) and the
    normalised URL (scheme and host lower-cased, default port and fragment dropped), its first
    32 hex digits. Like a text's id, it holds all that the extraction depends on."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    netloc = parts.netloc.rpartition("@")[2].lower().removesuffix(DEFAULT_PORT_SUFFIX.get(scheme, ""))
    normal = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    stamp = rfc3339(published_at) if published_at else ""
    return hashlib.sha256(f"{EXTRACTOR_VERSION}\nurl\n{stamp}\n{normal}".encode()).hexdigest()[:32]
