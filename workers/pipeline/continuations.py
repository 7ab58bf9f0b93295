"""Quote continuations: the quotes that carry on a quoted claim become parts of it.

"“One,” she said. “Two.”" and a quote that fills the next paragraph are one claim in
news attribution corpora (and to a fact-checker): the second quote has no speaker of its
own. A quote continues the claim before it when it opens a paragraph after an unclosed
one (:attr:`Quote.continues_previous`), or when it stands as a sentence or paragraph of
its own right after that claim's attribution and no speech verb with a subject sits
beside it. Quotes that different rules (or the rules and the tagger) gave one and the same
cue are joined too (:func:`join_shared_cues`): "“One,” he said, “two.”" has one speaker
saying one thing in two pieces.
"""

from __future__ import annotations

from spacy.tokens import Doc
from spacy.tokens import Span as SpacySpan

from workers.pipeline.candidates import Candidate, CharSpan, DisjointSpans
from workers.pipeline.contents import QuoteIndex, quote_kind
from workers.pipeline.cues import STANCE_OF
from workers.pipeline.sources import subject_of

# A quote shorter than this is a title or a scare-quoted phrase, not more of what was said.
_MIN_CONTINUATION_TOKENS = 4
_SENTENCE_END = ".!?:;”’\"'»"


def _stands_alone(text: str, start: int, end: int) -> bool:
    """A quote that is a sentence of its own: it opens a sentence or line, and prose does not run on after it."""
    before = text[text.rfind("\n", 0, start) + 1:start].strip()
    if before and before[-1] not in _SENTENCE_END:
        return False
    after = text[end:_paragraph_end(text, end)].strip()
    return not after or after[0].isupper() or after[0] in "“\"‘«(["


def _attribution_end(claim: Candidate) -> int:
    return max([claim.end] + [span[1] for span in (claim.cue, claim.source) if span is not None])


def _paragraph_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _follows(text: str, prev: Candidate, start: int) -> bool:
    """Between ``prev``'s attribution and ``start`` lie only the rest of its sentence and blank lines."""
    after = _attribution_end(prev)
    gap = text[after:start]
    head, _, tail = gap.partition("\n")
    if tail.strip():
        return False  # other text opens the quote's paragraph
    words = [i for i, ch in enumerate(head) if ch.isalnum()]
    return not words or after + words[-1] < prev.sentence[1]


def _quoted_claim_before(claims: list[Candidate], count: int, quotes: QuoteIndex) -> Candidate | None:
    """The last of the first ``count`` claims, passing over claims from its sentence that end in no quote.

    In "“...,” he said, referring to Trump. “...”" the quote carries on the first claim.
    """
    i = count - 1
    while i > 0 and claims[i].sentence == claims[i - 1].sentence and not _ends_in_quote(claims[i], quotes):
        i -= 1
    return claims[i] if i >= 0 else None


def _ends_in_quote(claim: Candidate, quotes: QuoteIndex) -> bool:
    quote = quotes.at(claim.end - 1)
    return quote is not None and quote.end == claim.end


def continuations(doc: Doc, quotes: QuoteIndex, claims: list[Candidate]) -> None:
    """Append to each quoted claim, in place, the quotes that carry it on."""
    starts = sorted(claims, key=lambda c: c.start)
    taken = DisjointSpans([(c.start, c.end) for c in starts])
    text = quotes.text
    for q in quotes.quotes:
        if taken.covers(q.start):
            continue
        prev = _quoted_claim_before(starts, taken.count_ending_by(q.start), quotes)
        if prev is None or not _ends_in_quote(prev, quotes):
            continue
        span = doc.char_span(q.start, q.end, alignment_mode="expand")
        if span is None:
            continue
        if q.continues_previous or (
            len(span) >= _MIN_CONTINUATION_TOKENS
            and _stands_alone(text, q.start, q.end)
            and _follows(text, prev, q.start)
            and not _attributed_outside(span, _attribution_end(prev), _paragraph_end(text, q.end))
        ):
            prev.parts.append((q.start, q.end))


def _attributed_outside(span: SpacySpan, since: int, until: int) -> bool:
    """Whether the sentences of ``span`` have, in [since, until) and outside it, a speech verb with a subject."""
    tokens = span.doc[span[0].sent.start:span[-1].sent.end]
    return any(tok.pos_ == "VERB" and tok.lemma_.lower() in STANCE_OF and subject_of(tok) is not None
               for tok in tokens if since <= tok.idx < until and not span.start_char <= tok.idx < span.end_char)


def join_shared_cues(claims: list[Candidate], quotes: QuoteIndex) -> list[Candidate]:
    """The claims, with each direct quote that has the same cue as an earlier direct quote made a
    part of it ("“One,” he said, “two.”"). The quote rule finds the same speech verb beside each
    quote of such a sentence; in ``''One,'' he said. ''Two.''`` the parser often leaves the second
    quote's opening mark on the sentence before, so the rule takes that sentence's verb for it.
    Without this, each quote was a claim of its own.

    Only whole quotes are joined: an indirect content and a quote under one cue ("slammed [the
    proposal] as “reprehensible”") are often two attributions in the corpus, or a title
    ("said on ''This Week''"). ``claims`` come from :func:`~workers.pipeline.candidates.outermost`,
    disjoint and in text order: one pass, each cue looked up in a dictionary.
    """
    first_quote: dict[CharSpan, Candidate] = {}
    joined: list[Candidate] = []
    for claim in claims:
        direct = claim.cue is not None and quote_kind(quotes.text, claim.parts, quotes) == "direct"
        earlier = first_quote.get(claim.cue) if direct else None
        if earlier is not None:
            earlier.parts = sorted(earlier.parts + claim.parts)
            earlier.sentence = (min(earlier.sentence[0], claim.sentence[0]), max(earlier.sentence[1], claim.sentence[1]))
            continue
        if direct:
            first_quote[claim.cue] = claim
        joined.append(claim)
    return joined
