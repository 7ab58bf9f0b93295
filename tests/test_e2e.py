"""End to end: gunicorn and an RQ worker as processes, the seed article over loopback HTTP."""

from __future__ import annotations

from typing import Any

import requests

from support.live_service import get, post
from support.seeds import SEED_TEXT
from support.waiting import poll

EXTRACTION_TIMEOUT = 60.0


def all_claims(session: requests.Session, url: str) -> list[dict[str, Any]]:
    """Every claim of the article, following the cursor pagination of /claims."""
    claims: list[dict[str, Any]] = []
    for _ in range(100):
        page = get(session, url)
        assert page.status_code == 200
        body = page.json()
        claims += body["claims"]
        if not body["links"]["next"]:
            return claims
        url = requests.compat.urljoin(url, body["links"]["next"])
    raise AssertionError("the pagination of /claims does not end")


def said_by(claims: list[dict[str, Any]], name: str, words: str) -> list[dict[str, Any]]:
    """Claims whose claimant is (or refers to) ``name`` and whose content contains ``words``."""
    return [
        c
        for c in claims
        if c["claimant"]
        and name in c["claimant"]["text"] + " " + c["claimant"]["resolved"]
        and words in c["content"]["text"]
    ]


def test_seed_article_posted_over_http_is_extracted_by_a_worker(api_url: str, start_worker) -> None:
    start_worker()
    session = requests.Session()
    article = {"text": SEED_TEXT, "title": "Putin says incursions failed", "published_at": "2023-03-21T09:00:00Z"}

    posted = post(session, f"{api_url}/v1/articles", json=article)
    assert posted.status_code == 202, posted.text
    location = requests.compat.urljoin(api_url, posted.headers["Location"])

    settled = poll(
        lambda: get(session, location).json(),
        lambda body: body["status"] in ("done", "failed"),
        EXTRACTION_TIMEOUT,
        "the claims of the seed article",
    )
    assert settled["status"] == "done", settled.get("problem")

    claims = all_claims(session, requests.compat.urljoin(api_url, settled["links"]["claims"]))
    assert claims == settled["claims"]
    assert said_by(claims, "Putin", "“failed”")
    assert said_by(claims, "Gladkov", "9,000 children")
