"""schema.org ``Claim`` objects (JSON-LD) for an article's claims.

Each claim is complete on its own (author, the article as its ``appearance`` and
``firstAppearance``, text, date), so a fact-checker can put it unchanged into a
``ClaimReview``'s ``itemReviewed``. What schema.org has no term for (cue, stance, claim
type, check-worthiness, offsets, time expressions, quantities) uses Claimwire's own
context, ``/contexts/claimwire.jsonld``, served by the package, whose terms live in
the vocabulary ``urn:claimwire:vocab#``.

schema.org's ``Claim`` has no way to say whether its author is a person or an
organisation; the resolved claimant is typed ``Organization`` when its name holds a
word of :data:`ORGANISATION_WORDS`, else ``Person``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from service.representations import article_path
from service.store import Article

SCHEMA_ORG_CONTEXT = "https://schema.org"
CONTEXT_PATH = "/contexts/claimwire.jsonld"
MEDIA_TYPE = "application/ld+json"
ORGANISATION_WORDS = frozenset(
    """agency army authorities authority bank battalion board brigade bureau cabinet centre center
    commission committee company corporation corps council court department embassy forces
    foundation government group inc institute kremlin legion ltd media ministry navy news office
    organisation organization parliament party pentagon police regiment senate service tass
    team union units university""".split()
)


@cache
def claimwire_context() -> dict[str, Any]:
    """The package's own JSON-LD context document."""
    return json.loads(files("service").joinpath("contexts/claimwire.jsonld").read_text(encoding="utf-8"))


def context(base_url: str) -> list[str]:
    return [SCHEMA_ORG_CONTEXT, base_url.rstrip("/") + CONTEXT_PATH]


def claims_document(article: Article, claims: list[dict[str, Any]], base_url: str) -> dict[str, Any]:
    """A JSON-LD document whose ``@graph`` holds one ``Claim`` per claim."""
    appearance = news_article(article, base_url)
    return {"@context": context(base_url), "@graph": [claim_node(article, c, appearance, base_url) for c in claims]}


def news_article(article: Article, base_url: str) -> dict[str, Any]:
    """The article as a schema.org ``NewsArticle``: where the claims appeared."""
    node: dict[str, Any] = {"@type": "NewsArticle", "@id": article.url or _own_url(article, base_url)}
    if article.url:
        node["url"] = article.url
    if article.title:
        node["headline"] = article.title
    if article.publisher:
        node["publisher"] = {"@type": "Organization", "name": article.publisher}
    if article.published_at:
        node["datePublished"] = article.published_at
    node["inLanguage"] = article.language
    return node


def claim_node(article: Article, claim: dict[str, Any], appearance: dict[str, Any], base_url: str) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@type": "Claim",
        "@id": f"{_own_url(article, base_url)}#claim-{claim['id']}",
        "text": claim["content"]["text"],
    }
    claimant = claim.get("claimant")
    if claimant:
        name = claimant["resolved"] or claimant["text"]
        node["author"] = {"@type": author_type(name), "name": name}
    if article.published_at:
        node["datePublished"] = article.published_at
    node["appearance"] = appearance
    node["firstAppearance"] = appearance
    node["claimType"] = claim["type"]
    node["checkworthiness"] = claim["checkworthiness"]
    node["contentSpan"] = _span(claim["content"]) | {"parts": [{"start": s, "end": e} for s, e in claim["content"].get("parts") or []]}
    if claimant:
        node["claimantMention"] = _span(claimant) | {"text": claimant["text"], "mentionKind": claimant["kind"]}
    if claim.get("cue"):
        cue = claim["cue"]
        node["cue"] = _span(cue) | {"text": cue["text"], "lemma": cue["lemma"]}
        node["stance"] = cue["stance"]
    if claim.get("reported_via"):
        node["reportedVia"] = _span(claim["reported_via"]) | {"text": claim["reported_via"]["text"]}
    node["timeExpressions"] = [_span(t) | {"text": t["text"], "normalized": t["value"]} for t in claim.get("time_expressions", [])]
    node["quantities"] = [
        _span(q) | {"text": q["text"], "value": q["value"], "unitText": q["unit"]} for q in claim.get("quantities", [])
    ]
    return _without_nulls(node)


def author_type(name: str) -> str:
    words = {w.strip(".,()'’").casefold() for w in name.split()}
    return "Organization" if words & ORGANISATION_WORDS else "Person"


def _span(span: dict[str, Any]) -> dict[str, Any]:
    return {"start": span["start"], "end": span["end"]}


def _own_url(article: Article, base_url: str) -> str:
    return base_url.rstrip("/") + article_path(article.id)


def _without_nulls(value: Any) -> Any:
    """JSON-LD drops nulls on expansion; leave them out so that nothing is silently lost."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
