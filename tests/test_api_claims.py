"""GET /v1/articles/{id}/claims: filters, cursor pagination, and answers before the claims exist."""

from __future__ import annotations

import json

import pytest

from service.store import article_key, result_key
from support.seeds import SEED_TEXT


@pytest.fixture
def seed_id(client, work_off) -> str:
    article_id = client.post("/v1/articles", json={"text": SEED_TEXT}).get_json()["id"]
    work_off()
    return article_id


def all_claims(client, article_id: str, **filters) -> list[dict]:
    body = client.get(f"/v1/articles/{article_id}/claims", query_string={**filters, "limit": 500}).get_json()
    assert body["next_cursor"] is None
    assert body["total"] == len(body["claims"])
    return body["claims"]


def test_claims_are_those_of_the_article(client, seed_id):
    article = client.get(f"/v1/articles/{seed_id}").get_json()
    response = client.get(f"/v1/articles/{seed_id}/claims")
    assert response.status_code == 200
    body = response.get_json()
    assert body["article_id"] == seed_id
    assert body["extractor_version"] == article["extractor_version"]
    assert body["links"]["article"] == f"/v1/articles/{seed_id}"
    assert all_claims(client, seed_id) == article["claims"]


def test_cursor_pagination_walks_every_claim_once(client, seed_id):
    expected = all_claims(client, seed_id)
    assert len(expected) > 5, "the seed article has many claims"
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"/v1/articles/{seed_id}/claims", query_string=query).get_json()
        assert body["total"] == len(expected)
        assert len(body["claims"]) <= 2
        seen += body["claims"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            assert body["links"]["next"] is None
            break
        assert f"cursor={cursor}" in body["links"]["next"]
        assert pages <= len(expected)
    assert seen == expected


def test_claimant_filter_is_a_case_insensitive_substring(client, seed_id):
    everything = all_claims(client, seed_id)

    def by_putin(claim: dict) -> bool:
        claimant = claim["claimant"] or {}
        return "putin" in (claimant.get("text", "") + "\n" + claimant.get("resolved", "")).casefold()

    putin = all_claims(client, seed_id, claimant="PuTiN")
    assert putin == [c for c in everything if by_putin(c)]
    assert putin and len(putin) < len(everything)


def test_type_and_checkworthiness_filters(client, seed_id):
    everything = all_claims(client, seed_id)
    for claim_type in ("direct", "indirect", "mixed"):
        assert all_claims(client, seed_id, type=claim_type) == [c for c in everything if c["type"] == claim_type]
    scores = sorted(c["checkworthiness"] for c in everything)
    threshold = scores[len(scores) // 2]
    assert all_claims(client, seed_id, min_checkworthiness=threshold) == [
        c for c in everything if c["checkworthiness"] >= threshold
    ]
    assert all_claims(client, seed_id, min_checkworthiness=1.0) == [
        c for c in everything if c["checkworthiness"] >= 1.0
    ]


def test_filtered_pages_keep_their_filters(client, seed_id):
    expected = all_claims(client, seed_id, type="direct")
    first = client.get(f"/v1/articles/{seed_id}/claims", query_string={"type": "direct", "limit": 1}).get_json()
    assert first["claims"] == expected[:1]
    if first["next_cursor"]:
        second = client.get(first["links"]["next"]).get_json()
        assert second["claims"] == expected[1:2]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"type": "rumour"}, "type"),
        ({"min_checkworthiness": "1.5"}, "min_checkworthiness"),
        ({"min_checkworthiness": "nan"}, "min_checkworthiness"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"claimant": ""}, "claimant"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"claimnt": "Putin"}, "claimnt"),
    ],
)
def test_invalid_queries_are_422(client, seed_id, query, field):
    response = client.get(f"/v1/articles/{seed_id}/claims", query_string=query)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_a_cursor_does_not_work_with_other_filters(client, seed_id):
    cursor = client.get(f"/v1/articles/{seed_id}/claims", query_string={"limit": 1}).get_json()["next_cursor"]
    query = {"limit": 1, "cursor": cursor, "type": "direct"}
    response = client.get(f"/v1/articles/{seed_id}/claims", query_string=query)
    assert response.status_code == 422
    assert "cursor" in response.get_json()["errors"]


def test_claims_of_a_pending_article_are_409_with_retry_after(client):
    article_id = client.post("/v1/articles", json={"text": SEED_TEXT}).get_json()["id"]
    response = client.get(f"/v1/articles/{article_id}/claims")
    assert response.status_code == 409
    assert response.headers["Retry-After"] == "1"
    problem = response.get_json()
    assert problem["type"] == "/problems/article-not-done"
    assert problem["article_status"] == "queued"


def test_claims_of_an_unknown_article_are_404(client):
    assert client.get(f"/v1/articles/{'f' * 32}/claims").status_code == 404


def test_unfiltered_claims_are_the_stored_document_with_a_strong_etag(client, seed_id, redis_conn):
    stored = redis_conn.get(result_key(seed_id))
    response = client.get(f"/v1/articles/{seed_id}/claims")
    assert response.data == stored
    etag, weak = response.get_etag()
    assert etag and not weak
    rendered = client.get(f"/v1/articles/{seed_id}/claims", query_string={"limit": 50})
    assert rendered.data == stored, "the general path renders the same bytes"
    assert rendered.get_etag() == (etag, False)


def test_if_none_match_answers_304_without_reading_the_claims(client, seed_id, redis_conn):
    etag = client.get(f"/v1/articles/{seed_id}/claims").get_etag()[0]
    redis_conn.delete(result_key(seed_id))  # the 304 must come from the ETag alone
    response = client.get(f"/v1/articles/{seed_id}/claims", headers={"If-None-Match": f'"other", "{etag}"'})
    assert response.status_code == 304
    assert response.data == b""
    assert response.get_etag() == (etag, False)


def test_a_stale_or_other_etag_gets_the_claims(client, seed_id):
    response = client.get(f"/v1/articles/{seed_id}/claims", headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200
    assert response.get_json()["article_id"] == seed_id


def test_filtered_and_article_reads_have_their_own_etags(client, seed_id):
    unfiltered = client.get(f"/v1/articles/{seed_id}/claims").get_etag()[0]
    for url in (f"/v1/articles/{seed_id}/claims?type=direct", f"/v1/articles/{seed_id}"):
        first = client.get(url)
        etag, weak = first.get_etag()
        assert etag and not weak and etag != unfiltered
        again = client.get(url, headers={"If-None-Match": f'"{etag}"'})
        assert again.status_code == 304 and again.get_etag() == (etag, False)


def test_an_article_no_longer_done_gets_no_304(client, seed_id, redis_conn):
    etag = client.get(f"/v1/articles/{seed_id}/claims").get_etag()[0]
    redis_conn.hset(article_key(seed_id), "status", "running")
    response = client.get(f"/v1/articles/{seed_id}/claims", headers={"If-None-Match": f'"{etag}"'})
    assert response.status_code == 409


def test_a_result_stored_without_its_etag_fields_is_still_served(client, seed_id, redis_conn):
    """A result cached in the earlier layout (the bare extraction, no ETag fields) is parsed instead."""
    expected = client.get(f"/v1/articles/{seed_id}/claims").get_json()
    legacy = {name: expected[name] for name in ("detected_language", "extractor_version", "claims")}
    redis_conn.set(result_key(seed_id), json.dumps(legacy))
    redis_conn.hdel(article_key(seed_id), "etag", "claims_span", "claims_total")
    response = client.get(f"/v1/articles/{seed_id}/claims")
    assert response.status_code == 200 and response.get_json() == expected
    assert response.get_etag()[0]
    assert client.get(f"/v1/articles/{seed_id}").get_json()["claims"] == expected["claims"]


def test_declared_and_detected_language_are_two_fields(client, work_off):
    german = ("Die Regierung hat am Dienstag angekündigt, dass die Steuern im nächsten Jahr steigen werden. "
              "Der Minister sagte, das sei notwendig.")
    article_id = client.post("/v1/articles", json={"text": german, "language": "en"}).get_json()["id"]
    work_off()
    assert client.get(f"/v1/articles/{article_id}").get_json()["language"] == "en"
    claims_page = client.get(f"/v1/articles/{article_id}/claims").get_json()
    assert claims_page["detected_language"] == "de"
    assert "language" not in claims_page
