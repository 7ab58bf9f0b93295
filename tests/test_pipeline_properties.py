"""Span invariants of the whole pipeline on generated news-like text (hypothesis).

Whatever the text, every span a claim carries lies inside the text and its ``text`` is
``text[start:end]``, a content never overlaps its own claimant, and the extraction
serialises as openapi.yaml describes claims. Texts mix quotes of every form, speech verbs, names,
sentences of the seed article, punctuation, control characters and odd whitespace.
"""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings, strategies as st

from support.openapi_check import check_extraction
from support.seeds import SEED_TEXT
from workers.claims import Claim, Span, dump_extraction
from workers.pipeline import get_extractor

SEED_SENTENCES = [line for line in SEED_TEXT.splitlines() if line.strip()]

QUOTES = [("“", "”"), ('"', '"'), ("‘", "’"), ("«", "»"), ("„", "“"), ("''", "''"), ("'", "'")]
NAMES = ["Vladimir Putin", "he", "she", "Gladkov", "the Russian President", "Yuriy Zarko", "officials",
         "The Russian Defence Ministry", "Mr. Trump", "a spokesman", "who", "They", "Sen. Jeff Flake"]
CUES = ["said", "claimed", "has announced", "denied", "suggested", "warned", "told Reuters", "believes",
        "according to", "said on Tuesday", "added", "insisted", ":", "wrote", "reported"]
WORDS = ["the", "raids", "failed", "9,000 children", "on March 19", "more than 150", "Belgorod", "that",
         "will", "be", "evacuated", "last week", "TASS", "state media", "not", "$1.5 million", "40%"]
PUNCT = [".", ",", "!", "?", ";", "…", "–", "—", "(", ")", "...", ":", "'s", "’"]
SPACES = [" ", "  ", "\n", "\n\n", "\t", "\r\n", "\u00a0", "\u2028", "\u200b", "\x00", "\x0b", "\x1b", "\ufeff"]

words = st.lists(st.sampled_from(WORDS + NAMES), min_size=1, max_size=8).map(" ".join)


@st.composite
def quoted(draw: st.DrawFn) -> str:
    """A quotation in one of the quote styles, sometimes left open or closed wrongly."""
    open_mark, close_mark = draw(st.sampled_from(QUOTES))
    body = draw(st.one_of(words, st.sampled_from(SEED_SENTENCES)))
    ending = draw(st.sampled_from([close_mark, "," + close_mark, "." + close_mark, "", draw(st.sampled_from(QUOTES))[1]]))
    return open_mark + body + ending


@st.composite
def attribution(draw: st.DrawFn) -> str:
    """A reported-speech pattern: speaker before, after or inside a quote, or indirect."""
    name, cue, quote = draw(st.sampled_from(NAMES)), draw(st.sampled_from(CUES)), draw(quoted())
    return draw(st.sampled_from([
        f"{name} {cue} {quote}",
        f"{quote} {name} {cue}.",
        f"{quote} {cue} {name}. {draw(quoted())}",
        f"{name} {cue} that {draw(words)}.",
        f"{cue.capitalize()} {name}, {draw(words)}.",
    ]))


fragment = st.one_of(
    attribution(),
    quoted(),
    words,
    st.sampled_from(SEED_SENTENCES),
    st.sampled_from(PUNCT),
    st.sampled_from(SPACES),
    st.sampled_from([o for o, _ in QUOTES] + [c for _, c in QUOTES]),
    st.text(max_size=12),
)
texts = st.lists(st.tuples(fragment, st.sampled_from(SPACES + ["", " ", " "])), max_size=12).map(
    lambda pieces: "".join(f + s for f, s in pieces))
published = st.one_of(
    st.none(),
    st.datetimes(datetime(1990, 1, 1), datetime(2035, 12, 31), timezones=st.just(timezone.utc)),
    st.datetimes(),  # the calendar's edges too: year 1 and 9999
)


def spans_of(claim: Claim) -> list[tuple[str, Span]]:
    named: list[tuple[str, Span]] = [("content", claim.content)]
    if claim.claimant is not None:
        named.append(("claimant", claim.claimant))
    if claim.cue is not None:
        named.append(("cue", claim.cue))
    if claim.reported_via is not None:
        named.append(("reported_via", claim.reported_via))
    named += [("time", t) for t in claim.time_expressions]
    named += [("quantity", q) for q in claim.quantities]
    named += [("entity", e) for e in claim.entities]
    return named


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, published_at=published)
def test_every_span_is_exact_and_content_never_overlaps_its_claimant(text: str, published_at: datetime | None) -> None:
    extraction = get_extractor().extract(text, published_at)
    for claim in extraction.claims:
        for name, span in spans_of(claim):
            assert 0 <= span.start <= span.end <= len(text), (name, span)
            assert span.text == text[span.start:span.end], (name, span)
        assert 0 <= claim.sentence.start <= claim.sentence.end <= len(text), claim.sentence
        content = claim.content
        assert content.start < content.end
        pieces = content.parts or [(content.start, content.end)]
        for start, end in pieces:
            assert content.start <= start < end <= content.end, (content.parts, content)
        if content.parts:
            assert content.parts[0][0] == content.start and content.parts[-1][1] == content.end
            assert all(a[1] <= b[0] for a, b in zip(content.parts, content.parts[1:]))
        for inner in (*claim.time_expressions, *claim.quantities, *claim.entities):
            assert any(start <= inner.start and inner.end <= end for start, end in pieces), (inner, pieces)
        if claim.reported_via is not None:
            via = (claim.reported_via.start, claim.reported_via.end)
            assert not any(overlaps(piece, via) for piece in pieces), (claim.reported_via, pieces)
        if claim.claimant is not None:
            who = (claim.claimant.start, claim.claimant.end)
            assert not any(overlaps(piece, who) for piece in pieces), (claim.claimant, pieces)
        assert 0.0 <= claim.checkworthiness <= 1.0
    check_extraction(dump_extraction(extraction))
