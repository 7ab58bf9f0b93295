"""An article's text and metadata from its HTML page, by trafilatura.

trafilatura removes the boilerplate (navigation, ads, comments) and finds the main
text, the title, the byline, the site name and the publication date. The text it
returns is what gets stored and shown as the article's ``text``, so every claim
offset indexes into it. Fields the client sent win over the extracted ones
(:func:`merge_extracted`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from service.schemas import MAX_AUTHOR_CHARS, MAX_PUBLISHER_CHARS, MAX_TITLE_CHARS

# htmldate's options: the original publication date (not the last update), with its time when given.
DATE_OPTIONS = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}
DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")


class NoArticleText(Exception):
    """The page has no main text trafilatura could find."""


def extract_from_html(html: str | bytes, url: str | None = None) -> dict[str, Any]:
    """``text``, ``title``, ``author``, ``publisher`` and ``published_at`` (aware, UTC) of a page."""
    import trafilatura  # imported on first use: it adds most of a second to every API process's start

    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        date_extraction_params=DATE_OPTIONS,
    )
    text = (document.text or "").strip() if document is not None else ""
    if not text:
        raise NoArticleText("No article text was found in the page.")
    return {
        "text": text,
        "title": _bounded(document.title, MAX_TITLE_CHARS),
        "author": _bounded(document.author, MAX_AUTHOR_CHARS),
        "publisher": _bounded(document.sitename, MAX_PUBLISHER_CHARS),
        "published_at": _published(document.date),
    }


def merge_extracted(sent: dict[str, Any], extracted: dict[str, Any]) -> dict[str, Any]:
    """The client's fields, completed by the extracted ones where the client gave none."""
    merged = dict(sent)
    for name, value in extracted.items():
        if merged.get(name) in (None, ""):
            merged[name] = value
    return merged


def _bounded(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    return value[:limit] or None


def _published(value: str | None) -> datetime | None:
    for fmt in DATE_FORMATS:
        try:
            moment = datetime.strptime(value or "", fmt)
        except ValueError:
            continue
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    return None
