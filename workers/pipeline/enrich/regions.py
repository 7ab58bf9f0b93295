"""Where in the parsed document a claim's content lies, as character regions and tokens.

Every enrichment looks only inside the content (or, for outlets, just outside it).
Content split by its attribution ("'…,' she said. '…'") is its ``parts``; otherwise the one
span ``[start, end)``. Lookups go through the tokens of a region, never through
``doc.ents`` or ``Span.ents``, which walk the whole document: on a long article with many
claims that would make enrichment quadratic.
"""

from __future__ import annotations

from collections.abc import Iterator

from spacy.tokens import Doc, Span as TokenSpan

from workers.claims import Content

Region = tuple[int, int]


def content_regions(content: Content) -> list[Region]:
    """The character ranges that make up the content, in text order."""
    if content.parts:
        return [(s, e) for s, e in content.parts if s < e]
    return [(content.start, content.end)] if content.start < content.end else []


def tokens_in(doc: Doc, start: int, end: int) -> TokenSpan | None:
    """The tokens lying wholly inside ``[start, end)``, or None if there are none."""
    if start >= end or start < 0 or not len(doc):
        return None
    # never doc.text here: spaCy rebuilds it from every token on each access
    span = doc.char_span(start, min(end, doc[-1].idx + len(doc[-1].text_with_ws)), alignment_mode="contract")
    return span if span is not None and len(span) else None


def region_tokens(doc: Doc, regions: list[Region]) -> Iterator[TokenSpan]:
    """The token spans of each region that holds at least one whole token."""
    for start, end in regions:
        span = tokens_in(doc, start, end)
        if span is not None:
            yield span


def entities_in(span: TokenSpan) -> list[TokenSpan]:
    """spaCy entities lying wholly inside ``span`` (one that crosses its edge is left out)."""
    doc = span.doc
    found: list[TokenSpan] = []
    i = span.start
    while i < span.end:
        if doc[i].ent_iob_ != "B":
            i += 1
            continue
        j = i + 1
        while j < len(doc) and doc[j].ent_iob_ == "I":
            j += 1
        if j <= span.end:
            found.append(TokenSpan(doc, i, j, label=doc[i].ent_type_))
        i = j
    return found
