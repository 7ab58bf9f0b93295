"""Gold attributions as BIO role spans on the pipeline's own parse (training examples).

Every source, cue and content part becomes a span of whole tokens, cut at sentence starts
(the tagger does not run a span over a sentence break; extraction joins the pieces again)
and stripped of whitespace tokens. A span that would share a token with an earlier one is
dropped: the corpus is univocal, so this only removes the rare annotation overlap.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from spacy.tokens import Doc
from spacy.training import Example

TokenSpan = tuple[int, int, str]


def _gold_spans(attribution: dict[str, Any]) -> Iterator[tuple[int, int, str]]:
    for key, label in (("source", "SOURCE"), ("cue", "CUE")):
        if attribution.get(key):
            yield attribution[key]["start"], attribution[key]["end"], label
    content = attribution["content"]
    for start, end in content.get("parts") or [[content["start"], content["end"]]]:
        yield start, end, "CONTENT"


def _pieces(doc: Doc, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Token ranges of ``doc[start:end]`` between sentence starts, without edge whitespace."""
    first = start
    for i in range(start, end + 1):
        if i == end or (i > first and doc[i].is_sent_start):
            s, e = first, i
            while s < e and doc[s].is_space:
                s += 1
            while e > s and doc[e - 1].is_space:
                e -= 1
            if s < e:
                yield s, e
            first = i


def role_spans(doc: Doc, gold: dict[str, Any]) -> list[TokenSpan]:
    """Non-overlapping token spans (start, end, label) of a gold document on ``doc``."""
    taken: set[int] = set()
    spans: list[TokenSpan] = []
    for attribution in gold["attributions"]:
        for start, end, label in _gold_spans(attribution):
            span = doc.char_span(start, end, alignment_mode="expand")
            if span is None:
                continue
            for s, e in _pieces(doc, span.start, span.end):
                if taken.isdisjoint(range(s, e)):
                    taken.update(range(s, e))
                    spans.append((s, e, label))
    return spans


def biluo(length: int, spans: list[TokenSpan]) -> list[str]:
    tags = ["O"] * length
    for s, e, label in spans:
        if e - s == 1:
            tags[s] = f"U-{label}"
        else:
            tags[s], tags[e - 1] = f"B-{label}", f"L-{label}"
            for i in range(s + 1, e - 1):
                tags[i] = f"I-{label}"
    return tags


def example(doc: Doc, gold: dict[str, Any]) -> Example:
    """A training example: ``doc`` (parsed, named entities unset) against the gold role spans."""
    doc.set_ents([], default="missing")
    return Example.from_dict(doc, {"entities": biluo(len(doc), role_spans(doc, gold))})
