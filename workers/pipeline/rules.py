"""Attribution rules over a parsed document; each rule proposes :class:`Candidate` objects.

- :func:`verb_rules`: a cue verb with its clausal complement, infinitive or object
  ("X said (that) ...", "X claimed to ...", "X denied the report"), or the verb
  after its content ("..., X said").
- :func:`parentheticals`: a cue set off by commas inside its content ("Though ..., he
  said, replacing her would be ...").
- :func:`according_to`: "according to X, ...".
- :func:`colons`: "X said: ..." and headline-style "X: ...".
- :func:`quote_speakers`: direct quotes whose speaker sits beside them.

Quotes that carry on an attributed quote are joined by :mod:`workers.pipeline.continuations`.
"""

from __future__ import annotations

from collections.abc import Iterator

from spacy.tokens import Doc, Token
from spacy.tokens import Span as SpacySpan

from workers.pipeline.candidates import Candidate, CharSpan, DisjointSpans
from workers.pipeline.contents import QUOTE_MARKS, QuoteIndex, shape, subtree_span
from workers.pipeline.cues import STANCE_OF, verb_group
from workers.pipeline.frames import OBJECT_COMPLEMENT_PREPS, frame_of
from workers.pipeline.lexicon import CueLexicon
from workers.pipeline.sources import dateline_end, mention_span, speaker_beside_quote, subject_of

_SOURCE_POS = ("PROPN", "PRON", "NOUN", "NUM", "X")
# Verbs whose subject is not the one who holds the view ("Trump seems to ...", "it appears that ...").
_RAISING_VERBS = frozenset({"appear", "seem"})
# Verbs whose subject "it" is a placeholder ("it emerged that").
_IMPERSONAL_VERBS = frozenset({"emerge", "turn", "happen", "transpire"})
# Cue verbs whose claim may rightly name nobody: no speaker is to be found for them elsewhere.
NO_CLAIMANT_VERBS = _RAISING_VERBS | _IMPERSONAL_VERBS
# What may stand between a parenthetical cue and its comma ("he said *on Saturday*,").
_VERB_MODIFIERS = frozenset({"prep", "advmod", "npadvmod"})
# How far (characters) a cue may sit after a quote to take its speaker from between them.
_SPEAKER_REACH = 80


def _cue_span(verb: Token) -> CharSpan:
    group = verb_group(verb)
    return group.start_char, group.end_char


def _sentence(token: Token) -> CharSpan:
    sent = token.sent
    return sent.start_char, sent.end_char


def source_of(verb: Token, quotes: QuoteIndex) -> tuple[CharSpan | None, Token | None]:
    """The claimant mention of a cue verb and its head token, or (None, None)."""
    head = subject_of(verb)
    if not quotes.at(verb.idx):
        quote = quotes.ending_before(verb.idx, _SPEAKER_REACH)
        if quote is not None and (head is None or quotes.at(head.idx)):
            beside = speaker_beside_quote(verb, quote.end)
            if beside is not None:
                start, end = mention_span(beside)
                return (max(start, quote.end), end), beside
    if head is None or head.pos_ not in _SOURCE_POS or head.dep_ == "expl" or head.ent_type_ in ("TIME", "DATE"):
        return None, None
    dated = dateline_end(head)
    if dated is not None:  # "CLEVELAND, July 19 (UPI) — Former Attorney General Michael Mukasey told":
        # the parser's subject is the dateline, the speaker at most its apposition after the dash
        head = next((child for child in head.rights if child.dep_ == "appos" and child.i >= dated), None)
        if head is None:
            return None, None
    lemma = verb.lemma_.lower()
    if lemma in _RAISING_VERBS or (head.lower_ == "it" and lemma in _IMPERSONAL_VERBS):
        return None, None  # "Trump appears to ...", "it emerged that ...": the writer's view, nobody is named
    return mention_span(head), head


def _colon_after(verb: Token) -> Token | None:
    """A colon right after the cue, or after "said X" / "said in a statement", that opens the content."""
    doc = verb.doc
    for i in range(verb.i + 1, min(verb.i + 6, len(doc))):
        tok = doc[i]
        if tok.text == ":":
            return tok
        if tok.is_punct or tok.pos_ == "VERB" or tok.sent_start:
            break
    return None


def _content_after(colon: Token, quotes: QuoteIndex) -> CharSpan:
    """From after a colon to the end of its sentence, or of the quotation that opens there."""
    start = colon.idx + 1
    end = colon.sent.end_char
    q = quotes.at(start + 1) or quotes.at(start)
    if q is not None and q.start >= start:
        end = max(end, q.end)
    return start, min(end, len(quotes.text))


def frame_key(verb: Token, has_source: bool) -> tuple[str, Token | None]:
    """The lexicon frame of a verb: colon, or its complement frame, marked when it has no source."""
    colon = _colon_after(verb)
    frame, comp = ("colon", colon) if colon is not None else frame_of(verb)
    return (frame if has_source else f"{frame}/nosrc"), comp


def _inner_clauses(comp: Token, lexicon: CueLexicon) -> set[int]:
    """Token indices where a trailing clause with an attribution of its own starts.

    "... the situation remained dire, as he claimed ..." and "... said X, telling Y that ..."
    are two claims, not one with the other inside it.
    """
    cut = set()
    for tok in comp.subtree:
        if tok.i <= comp.i or tok.dep_ not in ("advcl", "conj") or tok.pos_ != "VERB":
            continue
        if lexicon.is_cue(tok.lemma_.lower(), frame_key(tok, True)[0]):
            cut.add(tok.left_edge.i)
    return cut


def _content(verb: Token, frame: str, comp: Token, head: Token | None, lexicon: CueLexicon, quotes: QuoteIndex) -> CharSpan:
    doc = verb.doc
    if frame.startswith("colon"):
        return _content_after(comp, quotes)
    if frame.startswith("after"):
        last = min(verb.i, head.i if head is not None else verb.i) - 1
        return verb.sent.start_char, doc[last].idx + len(doc[last])
    if frame.startswith("prep"):
        comp = next(g for g in comp.children if g.dep_ in ("pobj", "pcomp"))
    stop = _inner_clauses(comp, lexicon) | _trailing_asides(comp)
    if head is not None:
        stop.add(head.i)
    start, end = subtree_span(comp, stop)
    if frame.startswith("dobj"):
        last = _object_complement_end(verb, comp)
        if last is not None and not any(comp.i < i <= last.i for i in stop):
            end = max(end, last.idx + len(last))
    return start, end


def opens_aside(token: Token) -> bool:
    """Whether ``token`` heads a relative clause opened by a comma (", which ...", ", who ...").

    Closing a content, such a clause is the writer's aside about the last thing named, not part
    of the claim.
    """
    return token.dep_ == "relcl" and token.left_edge.i > 0 and token.doc[token.left_edge.i - 1].text == ","


def _trailing_asides(comp: Token) -> set[int]:
    """Commas that open an aside (:func:`opens_aside`) closing the content."""
    last = comp.right_edge.i
    return {
        tok.left_edge.i - 1
        for tok in comp.subtree
        if opens_aside(tok) and tok.right_edge.i >= last - 1 and tok.left_edge.i > comp.i + 1
    }


def _object_complement_end(verb: Token, obj: Token) -> Token | None:
    """The last token of what completes an object cue: "accused X *of Y*", "called X *a liar*".

    The verb's object predicates and prepositional phrases that follow the object without
    a gap belong to the claim; a phrase whose object is a date or time ("on Tuesday") does not.
    """
    right = obj.right_edge
    for child in sorted((c for c in verb.children if c.i > right.i), key=lambda c: c.i):
        if child.left_edge.i != right.i + 1 or not _completes_object(child):
            break
        right = child.right_edge
    return right if right.i > obj.right_edge.i else None


def _completes_object(child: Token) -> bool:
    if child.dep_ == "oprd":
        return True
    if child.dep_ != "prep" or child.lower_ not in OBJECT_COMPLEMENT_PREPS:
        return False
    pobj = next((g for g in child.children if g.dep_ in ("pobj", "pcomp")), None)
    return pobj is not None and pobj.ent_type_ not in ("DATE", "TIME")


def verb_rules(doc: Doc, quotes: QuoteIndex, lexicon: CueLexicon) -> Iterator[Candidate]:
    """Verbs the lexicon takes for cues in their frame, with their content and source."""
    text = quotes.text
    for verb in doc:
        if verb.pos_ != "VERB":
            continue
        lemma = verb.lemma_.lower()
        if lemma == "accord":  # "according to" has a rule of its own
            continue
        source, head = source_of(verb, quotes)
        frame, comp = frame_key(verb, source is not None)
        if comp is None or not lexicon.is_cue(lemma, frame):
            continue
        if frame.startswith("after") and head is None:
            continue
        quoted = quotes.at(verb.idx)
        if quoted is not None and (head is None or quoted.closed):
            continue  # a cue inside a quotation is the quoted speaker's own wording
        content = shape(text, _content(verb, frame, comp, head, lexicon, quotes), quotes)
        if content is None or (source and source[0] < content[1] and content[0] < source[1]):
            continue
        cue = _cue_span(verb)
        if frame.startswith("prep"):
            cue = (cue[0], comp.idx + len(comp))
        yield Candidate([content], cue, lemma, source, head, _sentence(verb))


def parentheticals(doc: Doc, quotes: QuoteIndex, lexicon: CueLexicon) -> Iterator[Candidate]:
    """"A, X said, B": one claim in two parts around a cue that takes no complement of its own.

    The parser hangs such a verb anywhere (root, parataxis), so the frame is read off the
    surface: a comma before the speaker and after the verb, words on both sides. The
    lexicon is asked whether the lemma reports a claim when it takes a clause. A split
    quotation ("“A,” he said, “B.”") is left to the quote rules.
    """
    text = quotes.text
    for verb in doc:
        lemma = verb.lemma_.lower()
        if verb.pos_ != "VERB" or not lexicon.is_cue(lemma, "ccomp"):
            continue
        if quotes.at(verb.idx) or frame_of(verb)[0] != "none":
            continue
        source, head = source_of(verb, quotes)
        sent = verb.sent
        if head is None or head.i > verb.i or head.left_edge.i <= sent.start + 1:
            continue
        opening = doc[head.left_edge.i - 1]
        closing = _comma_after_modifiers(verb, verb_group(verb).end)
        if opening.text != "," or closing is None or closing.i >= sent.end - 1:
            continue
        follower = doc[closing.i + 1]
        if follower.tag_ == "VBG" and lexicon.is_cue(follower.lemma_.lower(), "ccomp"):
            continue  # "A, he said, adding that B": a second claim, not the rest of this one
        parts = [shape(text, (sent.start_char, opening.idx), quotes), shape(text, (closing.idx + 1, sent.end_char), quotes)]
        if None in parts:
            continue
        yield Candidate(parts, _cue_span(verb), lemma, source, head, _sentence(verb))


def _comma_after_modifiers(verb: Token, i: int) -> Token | None:
    """The comma at token ``i``, or after the verb's own modifiers that start there ("said on Saturday,")."""
    doc = verb.doc
    while i < len(doc) and doc[i].text != ",":
        modifier = next((c for c in verb.children if c.left_edge.i == i and c.dep_ in _VERB_MODIFIERS), None)
        if modifier is None:
            return None
        i = modifier.right_edge.i + 1
    return doc[i] if i < len(doc) else None


def according_to(doc: Doc, quotes: QuoteIndex) -> Iterator[Candidate]:
    for tok in doc:
        if tok.lower_ != "according":
            continue
        to = next((c for c in tok.children if c.lower_ == "to"), None)
        if to is None and tok.i + 1 < len(doc) and doc[tok.i + 1].lower_ == "to":
            to = doc[tok.i + 1]
        if to is None:
            continue
        obj = next((c for c in to.children if c.dep_ == "pobj"), None)
        if obj is None:
            continue
        phrase_start, phrase_end = tok.idx, obj.right_edge.idx + len(obj.right_edge)
        sent = tok.sent
        if phrase_start - sent.start_char < sent.end_char - phrase_end:
            raw = (phrase_end, sent.end_char)
        else:
            raw = (sent.start_char, phrase_start)
        content = shape(quotes.text, raw, quotes)
        if content is None:
            continue
        yield Candidate([content], (tok.idx, to.idx + len(to)), "according to",
                        mention_span(obj), obj, (sent.start_char, sent.end_char))


def _speaker_before_colon(sent: SpacySpan, colon: Token) -> Token | None:
    """Headline style "NY Daily News: ...": a short named phrase before the sentence's colon."""
    before = sent.doc[sent.start:colon.i]
    if not 0 < len(before) <= 6:
        return None
    if not any(t.pos_ == "PROPN" for t in before) or any(t.pos_ == "VERB" for t in before):
        return None
    return max(before, key=lambda t: (t.dep_ in ("ROOT", "nsubj"), t.pos_ == "PROPN", t.i))


def colons(doc: Doc, quotes: QuoteIndex) -> Iterator[Candidate]:
    for sent in doc.sents:
        colon = next((t for t in sent if t.text == ":"), None)
        if colon is None or colon.i == sent.start:
            continue
        speaker = _speaker_before_colon(sent, colon)
        if speaker is None:
            continue
        content = shape(quotes.text, _content_after(colon, quotes), quotes)
        if content is None:
            continue
        src = (sent.start_char, colon.idx)
        src = shape(quotes.text, src, quotes) or src
        yield Candidate([content], (colon.idx, colon.idx + 1), ":", src, speaker, (sent.start_char, sent.end_char))


def quote_speakers(doc: Doc, quotes: QuoteIndex, covered: list[Candidate]) -> Iterator[Candidate]:
    """Quotes no other rule explained, with a speech verb and speaker in their sentence.

    A quote that ends with a full stop ends its sentence: a verb after it (often in the
    same parsed sentence when the parser misses the boundary) belongs to the next one.
    """
    taken = DisjointSpans([(c.start, c.end) for c in covered])
    for q in quotes.quotes:
        if taken.covers(q.start) or taken.covers(q.end - 1):
            continue
        span = doc.char_span(q.start, q.end, alignment_mode="expand")
        if span is None or len(span) < 4:
            continue
        first, last = span[0].sent, span[-1].sent
        ends_sentence = quotes.text[q.start:q.end].rstrip(QUOTE_MARKS).endswith(".")
        outside = [t for t in first if t.idx < q.start or (t.idx >= q.end and not ends_sentence)]
        verb = next((t for t in outside if t.pos_ == "VERB" and t.lemma_.lower() in STANCE_OF
                     and subject_of(t) is not None), None)
        if verb is None:
            continue
        source, head = source_of(verb, quotes)
        yield Candidate([(q.start, q.end)], _cue_span(verb), verb.lemma_.lower(), source, head,
                        (first.start_char, last.end_char))
