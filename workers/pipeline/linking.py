"""Attributions from the role tagger's spans, and how they join the rules' candidates.

Each content the tagger marks is linked to its cue and source.

The tagger (:mod:`workers.pipeline.roles`) marks sources, cues and contents but not which
belong together. A content takes the nearest cue of its sentences; contents that share a
cue are the parts of one claim ("“A,” she said, “B.”"); a quoted content with no cue in
its sentences carries on the claim before it (a quote continued in the next paragraph).
The cue takes the nearest source of its sentence. Any other content with no cue in its
sentences is a claim without a cue, of the nearest source in them: the tagger misses noun
cues ("Her vow [to go after companies]"), and on the validation documents such claims were
right half the time, enough to raise e2e F1 (see the model card). Every search is a
bisection in sorted spans within one sentence, so linking is linear in the document's length.

:func:`combine` joins them with the rules' candidates, each side correcting the other where
it scored better on the validation documents (the policy was chosen there, e2e F1):

- a rule's indirect claim whose cue the tagger does not mark as a cue is dropped (the rules'
  verb cues take many objects that are no claim: "she wrote a book");
- a rule's indirect claim grows to the tagger's content when a tagged claim with the same cue
  covers it and adds no time phrase and no comma-opened relative clause (the parse often cuts a
  clause short; the rules leave "on Tuesday" and ", who ..." out on purpose); the rules'
  boundaries are kept otherwise;
- a rule's claim without a speaker takes the tagged source nearest its cue in its sentence
  (unless its cue verb is one whose subject holds no view, "Trump appears to ...", or a
  passive without an agent, "it was revealed that ...", which the corpus leaves speakerless);
- the tagger adds the claims no rule found (noun cues, unusual verbs, headlines) when it
  finds a speaker for them: the speaker of a rule candidate with the same cue, else the
  syntactic subject of its cue verb, else the tagger's nearest source (the only one a claim
  without a cue has); a claim whose cue is a passive without an agent needs none;
- a claim whose content is only the bare object of a verb of telling ("told [reporters]",
  "asked [the senator]") is dropped: that is whom it was said to, the claim is elsewhere.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from spacy.tokens import Doc, Token
from spacy.tokens import Span as SpacySpan

from workers.pipeline.candidates import Candidate, CharSpan
from workers.pipeline.contents import QUOTE_MARKS, QuoteIndex, quote_kind, shape
from workers.pipeline.cues import ADDRESSEE_VERBS
from workers.pipeline.roles import ROLES
from workers.pipeline.rules import NO_CLAIMANT_VERBS, opens_aside, source_of
from workers.pipeline.sources import dateline_end, passive_without_agent

TokenSpan = tuple[int, int]
# How many sentences back a continued quote may find the claim it carries on.
_CONTINUATION_SENTENCES = 2
# No word of any language's news text is longer: a longer "word" is a scraped blob.
_LONGEST_WORD = 40
_TIME_ENTITIES = ("DATE", "TIME")


class _Sentences:
    """Sentence index of a token, by bisection over sentence starts."""

    def __init__(self, doc: Doc) -> None:
        self.spans = [(s.start, s.end) for s in doc.sents]
        self._starts = [s for s, _ in self.spans]

    def of(self, i: int) -> int:
        return bisect_right(self._starts, i) - 1


def _merged(doc: Doc, spans: list[SpacySpan]) -> list[TokenSpan]:
    """Content pieces joined where only whitespace (a sentence break) separates them."""
    merged: list[TokenSpan] = []
    for span in spans:
        if merged and all(t.is_space for t in doc[merged[-1][1]:span.start]):
            merged[-1] = (merged[-1][0], span.end)
        else:
            merged.append((span.start, span.end))
    return merged


def _nearest(spans: list[TokenSpan], starts: list[int], start: int, end: int, low: int, high: int) -> int | None:
    """Index of the span in [low, high) closest to token range [start, end) and outside it."""
    best, best_gap = None, None
    i = bisect_left(starts, start) - 1
    while i >= 0 and spans[i][0] >= low:
        if spans[i][1] <= start:
            best, best_gap = i, start - spans[i][1]
            break
        i -= 1
    j = bisect_left(starts, end)
    if j < len(spans) and spans[j][1] <= high:
        gap = spans[j][0] - end
        if best_gap is None or gap < best_gap:
            best = j
    return best


def _worded(span: SpacySpan) -> bool:
    """Whether a tagged span holds a word (or is punctuation, as a colon cue is): the tagger
    also marks pieces of scraped blobs (base64, hashes), which no claim is made of."""
    return any((t.is_alpha and len(t) <= _LONGEST_WORD) or t.is_punct for t in span)


def _tagged(doc: Doc) -> list[SpacySpan]:
    """The tagger's worded spans in text order, each source without the dateline it may start
    with ("JACKSON, Miss. - U.S. District Judge Carlton W. Reeves"; none if it is all dateline)."""
    spans = []
    for span in sorted(doc.spans[ROLES], key=lambda s: s.start):
        dated = dateline_end(span[0]) if span.label_ == "SOURCE" else None
        if dated is not None:
            if dated >= span.end:
                continue
            span = SpacySpan(doc, dated, span.end, label=span.label)
        if _worded(span):
            spans.append(span)
    return spans


def _chars(doc: Doc, span: TokenSpan) -> CharSpan:
    return doc[span[0]].idx, doc[span[1] - 1].idx + len(doc[span[1] - 1])


def role_candidates(doc: Doc, quotes: QuoteIndex) -> list[Candidate]:
    """Candidates built from ``doc.spans[ROLES]`` (none when the tagger did not run)."""
    if ROLES not in doc.spans:
        return []
    by_label: dict[str, list[SpacySpan]] = {"SOURCE": [], "CUE": [], "CONTENT": []}
    for span in _tagged(doc):
        by_label.setdefault(span.label_, []).append(span)
    contents = _merged(doc, by_label["CONTENT"])
    cues = [(s.start, s.end) for s in by_label["CUE"]]
    sources = [(s.start, s.end) for s in by_label["SOURCE"]]
    cue_starts = [s for s, _ in cues]
    source_starts = [s for s, _ in sources]
    sents = _Sentences(doc)
    text = quotes.text
    claims: dict[int, Candidate] = {}
    cueless: list[Candidate] = []
    last: Candidate | None = None
    last_sentence = -10
    for start, end in contents:
        first, final = sents.of(start), sents.of(end - 1)
        low, high = sents.spans[first][0], sents.spans[final][1]
        part = shape(text, _chars(doc, (start, end)), quotes)
        if part is None:
            continue
        cue = _nearest(cues, cue_starts, start, end, low, high)
        if cue is None:
            if last is not None and text[part[0]] in QUOTE_MARKS and first - last_sentence <= _CONTINUATION_SENTENCES:
                last.parts.append(part)
                last_sentence = final
                continue
            source = _nearest(sources, source_starts, start, end, low, high)
            if source is not None:
                cueless.append(_without_cue(doc, part, sources[source], sents.spans[sents.of(sources[source][0])]))
            continue
        if cue in claims:
            claims[cue].parts.append(part)
            last, last_sentence = claims[cue], final
            continue
        cue_start, cue_end = cues[cue]
        cue_sent = sents.spans[sents.of(cue_start)]
        source = _nearest(sources, source_starts, cue_start, cue_end, min(low, cue_sent[0]), max(high, cue_sent[1]))
        source_span = source_head = None
        if source is not None:
            source_span = _chars(doc, sources[source])
            source_head = doc[sources[source][0]:sources[source][1]].root
        cue_tokens = doc[cue_start:cue_end]
        sentence = (doc[cue_sent[0]].idx, doc[cue_sent[1] - 1].idx + len(doc[cue_sent[1] - 1]))
        claim = Candidate([part], _chars(doc, cues[cue]), cue_tokens.root.lemma_.lower(), source_span, source_head, sentence)
        claims[cue] = claim
        last, last_sentence = claim, final
    for claim in claims.values():
        claim.parts = _disjoint(claim.parts)
    return list(claims.values()) + cueless


def _without_cue(doc: Doc, part: CharSpan, source: TokenSpan, sentence: TokenSpan) -> Candidate:
    """A tagged content's claim of the tagged ``source`` when no cue was tagged in its sentences."""
    first, last = doc[sentence[0]], doc[sentence[1] - 1]
    return Candidate([part], None, "", _chars(doc, source), doc[source[0]:source[1]].root,
                     (first.idx, last.idx + len(last)))


def _disjoint(parts: list[CharSpan]) -> list[CharSpan]:
    """Parts in text order, overlapping ones (two pieces widened to one quotation) joined."""
    joined: list[CharSpan] = []
    for start, end in sorted(parts):
        if joined and start < joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


def _overlaps(a: CharSpan, b: CharSpan) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _cue_verb(doc: Doc, cue: CharSpan) -> Token | None:
    span = doc.char_span(cue[0], cue[1], alignment_mode="expand")
    verbs = [t for t in span if t.pos_ == "VERB"] if span is not None else []
    return verbs[-1] if verbs else None


def _speaker(doc: Doc, quotes: QuoteIndex, claim: Candidate, ruled: list[Candidate]) -> None:
    """Give a tagged claim the speaker the rules would give its cue, when it has one and they give one."""
    if claim.cue is None:
        return
    twin = next((r for r in ruled if r.cue is not None and _overlaps(r.cue, claim.cue)), None)
    if twin is not None:
        claim.source, claim.source_head = twin.source, twin.source_head
        return
    verb = _cue_verb(doc, claim.cue)
    if verb is None:
        return
    source, head = source_of(verb, quotes)
    if source is not None and not any(_overlaps(source, part) for part in claim.parts):
        claim.source, claim.source_head = source, head


class _TaggedSpans:
    """The tagger's cue and source spans in characters, sorted, searched by bisection."""

    def __init__(self, doc: Doc) -> None:
        spans = _tagged(doc)
        self.cues = [(s.start_char, s.end_char) for s in spans if s.label_ == "CUE"]
        self.sources = [s for s in spans if s.label_ == "SOURCE"]
        self._cue_starts = [start for start, _ in self.cues]
        self._source_starts = [s.start_char for s in self.sources]

    def marks_cue(self, cue: CharSpan) -> bool:
        """Whether a tagged cue overlaps ``cue`` (tagged spans are disjoint: only the last
        one starting before its end can)."""
        i = bisect_left(self._cue_starts, cue[1]) - 1
        return i >= 0 and self.cues[i][1] > cue[0]

    def nearest_source(self, claim: Candidate) -> SpacySpan | None:
        """The tagged source in the claim's sentence nearest its cue, outside its content."""
        assert claim.cue is not None
        low, high = claim.sentence
        best, best_gap = None, None
        for i in range(bisect_left(self._source_starts, low), bisect_left(self._source_starts, high)):
            span = self.sources[i]
            if span.end_char > high or any(_overlaps((span.start_char, span.end_char), p) for p in claim.parts):
                continue
            gap = min(abs(span.start_char - claim.cue[1]), abs(claim.cue[0] - span.end_char))
            if best_gap is None or gap < best_gap:
                best, best_gap = span, gap
        return best


def _touching(extents: list[CharSpan], start: int, end: int) -> list[int]:
    """Indices of the disjoint, sorted ``extents`` that overlap [start, end)."""
    i = bisect_left(extents, (start, start))
    if i > 0 and extents[i - 1][1] > start:
        i -= 1
    found = []
    while i < len(extents) and extents[i][0] < end:
        if extents[i][1] > start:
            found.append(i)
        i += 1
    return found


def _widen(doc: Doc, rule: Candidate, claim: Candidate, quotes: QuoteIndex) -> None:
    """Take the tagged content for a rule's indirect claim when it covers the rule's, under the
    same cue, and adds no time phrase and no aside (the rules leave "on Tuesday" and ", who ..."
    out of a claim on purpose)."""
    if rule.cue is None or claim.cue is None or not _overlaps(rule.cue, claim.cue):
        return
    if not (claim.start <= rule.start and rule.end <= claim.end):
        return
    if quote_kind(quotes.text, rule.parts, quotes) != "indirect":
        return
    if any(_overlaps(rule.cue, p) or (rule.source is not None and _overlaps(rule.source, p)) for p in claim.parts):
        return
    span = doc.char_span(claim.start, claim.end, alignment_mode="expand")
    added = [t for t in span if not rule.start <= t.idx < rule.end] if span is not None else []
    if any(t.ent_type_ in _TIME_ENTITIES or opens_aside(t) for t in added):
        return
    rule.parts = list(claim.parts)


def combine(doc: Doc, quotes: QuoteIndex, learned: list[Candidate], ruled: list[Candidate]) -> list[Candidate]:
    """The rules' candidates checked and corrected by the tagger, plus the tagged claims no rule
    candidate touches, less the claims whose content is only an addressee ("told [reporters]").

    ``ruled`` are outermost candidates (disjoint, sorted by start). Without the tagger's
    spans (no model shipped) the rules' candidates are kept as they are, addressees included.
    """
    if ROLES not in doc.spans:
        return ruled
    tagged = _TaggedSpans(doc)
    ruled = [r for r in ruled if r.cue is not None and tagged.marks_cue(r.cue)
             or quote_kind(quotes.text, r.parts, quotes) != "indirect"]
    extents = [(r.start, r.end) for r in ruled]  # as found: widening one does not move the others
    extra = []
    for claim in learned:
        touched = _touching(extents, claim.start, claim.end)
        if len(touched) == 1:
            _widen(doc, ruled[touched[0]], claim, quotes)
        elif not touched:
            _speaker(doc, quotes, claim, ruled)
            passive = claim.cue is not None and passive_without_agent(_cue_verb(doc, claim.cue))
            if claim.source is not None or passive:  # "it was revealed that": rightly nobody's
                extra.append(claim)
    for rule in ruled:
        if (rule.source is None and rule.cue is not None and rule.cue_lemma not in NO_CLAIMANT_VERBS
                and not passive_without_agent(_cue_verb(doc, rule.cue))):
            source = tagged.nearest_source(rule)
            if source is not None:
                rule.source, rule.source_head = (source.start_char, source.end_char), source.root
    return [claim for claim in ruled + extra if not _addressee_only(doc, claim)]


def _addressee_only(doc: Doc, claim: Candidate) -> bool:
    """Whether the claim's content is only whom its cue verb speaks to ("he *told* [reporters]")."""
    if claim.cue is None or len(claim.parts) != 1:
        return False
    verb = _cue_verb(doc, claim.cue)
    if verb is None or verb.lemma_.lower() not in ADDRESSEE_VERBS:
        return False
    content = doc.char_span(claim.start, claim.end, alignment_mode="expand")
    if content is None:
        return False
    return (content.root.head.i == verb.i and content.root.dep_ in ("dobj", "dative")
            and not any(token.pos_ in ("VERB", "AUX") for token in content))
