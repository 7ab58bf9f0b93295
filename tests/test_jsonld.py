"""schema.org JSON-LD: every term expands (nothing dropped), and a claim drops into a ClaimReview.

Expanded with pyld; its document loader serves schema.org's context from the copy the
package ships (``service/contexts/schemaorg.jsonld``: schema.org's definitions of the
terms Claimwire uses, without its ``@vocab`` so that a misspelt term is dropped, not
guessed) and Claimwire's from the package, so no test touches the network.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pytest
from pyld import jsonld

from support.seeds import SEED_TEXT
from service.jsonld import SCHEMA_ORG_CONTEXT, author_type

SCHEMA = "http://schema.org/"
CLAIMWIRE = "urn:claimwire:vocab#"
LD = {"Accept": "application/ld+json"}


def package_context(name: str) -> dict[str, Any]:
    return json.loads(files("service").joinpath(f"contexts/{name}").read_text(encoding="utf-8"))


def local_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    documents = {SCHEMA_ORG_CONTEXT: "schemaorg.jsonld", "http://localhost/contexts/claimwire.jsonld": "claimwire.jsonld"}
    if url.rstrip("/") not in documents:
        raise jsonld.JsonLdError(f"no network in tests: {url}", "jsonld.LoadDocumentError", code="loading document failed")
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": package_context(documents[url.rstrip("/")])}


def expand(document: dict[str, Any]) -> list[dict[str, Any]]:
    return jsonld.expand(document, {"documentLoader": local_loader})


def compact_keys(node: Any) -> int:
    """Properties (not keywords) in a compact document, at every depth."""
    if isinstance(node, dict):
        return sum((0 if k.startswith("@") else 1) + compact_keys(v) for k, v in node.items() if k != "@context")
    if isinstance(node, list):
        return sum(compact_keys(v) for v in node)
    return 0


def expanded_properties(node: Any, found: list[str]) -> list[str]:
    """Every property IRI in an expanded document (values inside @list included)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not key.startswith("@"):
                found.append(key)
            expanded_properties(value, found)
    elif isinstance(node, list):
        for value in node:
            expanded_properties(value, found)
    return found


@pytest.fixture
def done_article(client, work_off) -> str:
    article = {"text": SEED_TEXT, "title": "Raids", "publisher": "Example News",
               "url": "https://example.com/raids", "published_at": "2023-03-21T09:00:00Z"}
    article_id = client.post("/v1/articles", json=article).get_json()["id"]
    work_off()
    return article_id


def test_every_term_of_the_article_and_claims_json_ld_expands(client, done_article):
    for path in (f"/v1/articles/{done_article}", f"/v1/articles/{done_article}/claims?limit=500"):
        response = client.get(path, headers=LD)
        assert response.status_code == 200 and response.mimetype == "application/ld+json"
        document = response.get_json()
        properties = expanded_properties(expand(document), [])
        assert len(properties) == compact_keys(document)  # no key was dropped
        assert all(p.startswith((SCHEMA, CLAIMWIRE)) for p in properties)
        types = {t for node in expand(document) for t in node.get("@type", [])}
        assert types == {SCHEMA + "Claim"}


def test_a_claim_carries_author_appearance_text_and_claimwire_fields(client, done_article):
    claims_json = client.get(f"/v1/articles/{done_article}").get_json()["claims"]
    graph = client.get(f"/v1/articles/{done_article}", headers=LD).get_json()["@graph"]
    assert len(graph) == len(claims_json)
    first, source = graph[0], claims_json[0]
    assert first["@type"] == "Claim" and first["text"] == source["content"]["text"]
    assert first["author"] == {"@type": "Person", "name": "Vladimir Putin"}
    assert first["appearance"] == first["firstAppearance"]
    assert first["appearance"]["@type"] == "NewsArticle" and first["appearance"]["url"] == "https://example.com/raids"
    assert first["appearance"]["publisher"] == {"@type": "Organization", "name": "Example News"}
    assert first["datePublished"] == "2023-03-21T09:00:00Z"
    assert first["contentSpan"]["start"] == source["content"]["start"] and first["stance"] == source["cue"]["stance"]


def test_a_claim_drops_unchanged_into_a_claim_review(client, done_article):
    document = client.get(f"/v1/articles/{done_article}", headers=LD).get_json()
    claim = document["@graph"][0]
    review = {
        "@context": document["@context"],
        "@type": "ClaimReview",
        "claimReviewed": claim["text"],
        "itemReviewed": claim,
        "reviewRating": {"@type": "Rating", "ratingValue": 2, "bestRating": 5, "worstRating": 1, "alternateName": "Mostly false"},
        "author": {"@type": "Organization", "name": "A fact-checker"},
        "url": "https://factcheck.example/reviews/1",
    }
    expanded = expand(review)[0]
    reviewed = expanded[SCHEMA + "itemReviewed"][0]
    alone = expand({"@context": document["@context"], **claim})[0]
    assert reviewed == alone
    assert len(expanded_properties(expand(review), [])) == compact_keys(review)


def test_json_ld_of_an_article_not_yet_done_is_a_409(client):
    article_id = client.post("/v1/articles", json={"text": SEED_TEXT}).get_json()["id"]
    assert client.get(f"/v1/articles/{article_id}", headers=LD).status_code == 409


def test_the_claimwire_context_is_served_by_the_package(client):
    response = client.get("/contexts/claimwire.jsonld")
    assert response.status_code == 200 and response.get_json() == package_context("claimwire.jsonld")


@pytest.mark.parametrize(
    ("name", "kind"),
    [("Vladimir Putin", "Person"), ("The Russian Defence Ministry", "Organization"), ("state news agency TASS", "Organization")],
)
def test_a_claimant_is_a_person_unless_its_name_says_organisation(name, kind):
    assert author_type(name) == kind
