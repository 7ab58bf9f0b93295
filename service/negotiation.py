"""Content negotiation: which of the representations a resource offers the client prefers."""

from __future__ import annotations

from functools import lru_cache

from flask import request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

JSON = "application/json"
JSONLD = "application/ld+json"
HTML = "text/html"


def preferred(*offered: str) -> str:
    """The best of ``offered`` for the request's ``Accept``; the first on a tie, or when none fits.

    ``curl`` (``*/*``) gets the first, JSON; a browser (``text/html, ... */*;q=0.8``) the page.
    """
    return best_of(request.accept_mimetypes, *offered)


def best_of(accept: MIMEAccept, *offered: str) -> str:
    """:func:`preferred` for a parsed ``Accept``."""
    return accept.best_match(offered, default=offered[0]) or offered[0]


@lru_cache(maxsize=256)
def best_for_header(accept: str | None, offered: tuple[str, ...]) -> str:
    """:func:`best_of` for an ``Accept`` header's text, remembered: clients send a handful of
    distinct values, and parsing one cost a sixth of a cached read's CPU below Flask."""
    return best_of(parse_accept_header(accept, MIMEAccept), *offered)
