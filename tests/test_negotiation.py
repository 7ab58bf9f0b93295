"""Content negotiation below Flask: an Accept header's text decides as Flask's parsed one does, parsed once."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from service.negotiation import HTML, JSON, JSONLD, best_for_header, best_of

HEADERS = [
    None, "", "*/*", "application/json", "text/html", "application/ld+json",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/ld+json;q=0.5, application/json;q=0.4", "image/png", "application/*;q=0.2, text/html;q=0.1",
]


@pytest.mark.parametrize("offered", [(JSON, JSONLD), (JSON, JSONLD, HTML)])
@pytest.mark.parametrize("accept", HEADERS)
def test_the_header_text_gets_what_the_parsed_header_gets(accept, offered):
    assert best_for_header(accept, offered) == best_of(parse_accept_header(accept, MIMEAccept), *offered)


def test_a_header_seen_before_is_not_parsed_again():
    best_for_header.cache_clear()
    best_for_header("text/plain;q=0.3, */*;q=0.1", (JSON, HTML))
    best_for_header("text/plain;q=0.3, */*;q=0.1", (JSON, HTML))
    assert best_for_header.cache_info().hits == 1 and best_for_header.cache_info().misses == 1


def test_a_flood_of_distinct_accept_headers_keeps_the_memo_bounded():
    best_for_header.cache_clear()
    for i in range(2000):
        assert best_for_header(f"application/x-{i};q=0.9, application/json;q=0.1", (JSON, HTML)) == JSON
    assert best_for_header.cache_info().currsize == best_for_header.cache_info().maxsize == 256
