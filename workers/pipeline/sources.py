"""Claimant mentions: who a cue's claim belongs to, as written next to the cue."""

from __future__ import annotations

from spacy.tokens import Token

from workers.pipeline.candidates import CharSpan

_SUBJECTS = ("nsubj", "csubj")
_NOMINAL = ("PROPN", "NOUN", "PRON")
# Longest speaker phrase read off the surface next to a quote ("Ramos, 58," / "retired neurosurgeon Ben Carson").
_MAX_BESIDE_TOKENS = 8
_INHERITING = ("conj", "advcl", "xcomp")
_PASSIVE = frozenset({"nsubjpass", "auxpass"})
# What a participle's noun may be to its verb for the verb's subject to own it ("ran *ads* calling for").
_OBJECTS = ("dobj", "dative", "oprd")
# Clauses that follow a speaker's name but are not part of the mention.
_DROP = ("relcl", "acl", "punct", "cc", "conj", "advcl", "prep")
# Longest dateline ("LOS ANGELES, Sept. 28 (UPI) —"), in tokens before its dash.
_DATELINE_TOKENS = 10
_DASHES = ("—", "–", "-", "--")


def dateline_end(token: Token) -> int | None:
    """Where the dateline holding ``token`` ends (the index after its dash), or None.

    A wire story's paragraph may open with a dateline ("CLEVELAND, July 19 (UPI) — Former
    Attorney General Michael Mukasey told ..."), which the parser often takes for the subject;
    a place or an agency there is never the speaker. A dateline here: a line opening with at
    most ``_DATELINE_TOKENS`` tokens, none of them a lower-case word and one a capitalised one
    ("CLEVELAND", "(AFP)"), then a spaced dash. Bounded look-around: linear in the document.
    """
    doc = token.doc
    start = token.i
    while not _line_start(doc[start]):
        start -= 1
        if token.i - start >= _DATELINE_TOKENS:
            return None
    capitals = False
    for tok in doc[start:start + _DATELINE_TOKENS + 1]:
        if tok.text in _DASHES and tok.whitespace_ and tok.i > start and doc[tok.i - 1].whitespace_:
            return tok.i + 1 if capitals and tok.i > token.i else None
        if tok.is_space or (tok.is_alpha and tok.text.islower()):
            return None
        capitals = capitals or (tok.is_alpha and tok.is_upper and len(tok) > 1)
    return None


def _line_start(token: Token) -> bool:
    """Whether ``token`` opens a line (a line break in or after the token before it)."""
    doc = token.doc
    return token.i == 0 or "\n" in doc[token.i - 1].whitespace_ or "\n" in doc[token.i - 1].text


def mention_span(head: Token) -> CharSpan:
    """The mention headed by ``head``: its subtree without trailing clauses or punctuation."""
    left = head.left_edge.i
    right = head.i
    for child in head.rights:
        if child.dep_ in ("appos", "compound", "flat", "nummod", "amod", "poss"):
            right = max(right, child.right_edge.i)
        elif child.dep_ == "prep" and child.i == right + 1 and child.lower_ in ("of", "for", "in", "at", "from"):
            right = max(right, child.right_edge.i)
        elif child.dep_ in _DROP:
            break
    doc = head.doc
    left = next((i for i in range(head.i, left, -1) if _line_start(doc[i])), left)  # not back over a line break
    dated = dateline_end(doc[left])
    if dated is not None and dated <= head.i:
        left = dated  # nor into the paragraph's dateline
    while right > left and (doc[right].is_punct or doc[right].is_space):
        right -= 1
    while left < right and (doc[left].is_punct or doc[left].is_space):
        left += 1
    return doc[left].idx, doc[right].idx + len(doc[right])


def _agent(verb: Token) -> Token | None:
    for child in verb.children:
        if child.dep_ == "agent":
            return next((g for g in child.children if g.dep_ == "pobj"), None)
    return None


def _governing_verb(verb: Token) -> Token | None:
    """The verb a participle or coordinated verb hangs from: "..., adding that", "after telling them that"."""
    head = verb.head
    if verb.dep_ == "pcomp" and head.dep_ == "prep":
        head = head.head
    elif verb.dep_ not in _INHERITING or verb.tag_ == "VBN":
        return None  # a passive participle ("when asked about it, X said") names no asker
    return head if head.i != verb.i and head.pos_ in ("VERB", "AUX") else None


def passive_without_agent(verb: Token | None) -> bool:
    """A passive with no "by" phrase ("it was revealed that", "he is expected to"): the corpus
    gives such a claim no speaker, and none is to be borrowed from the sentence."""
    if verb is None:
        return False
    deps = {child.dep_ for child in verb.children}
    return bool(deps & _PASSIVE) and "agent" not in deps


def _infinitive(verb: Token) -> bool:
    """A to-infinitive: the noun it hangs from is what is planned or tried, not who does it."""
    return any(child.dep_ == "aux" and child.lower_ == "to" for child in verb.children)


def subject_of(verb: Token, depth: int = 3, inherited: bool = False) -> Token | None:
    """The subject head of a cue verb; passives give their agent ("by police") or none.

    Participles and coordinated verbs ("..., adding that", "claimed ... and said",
    "was booed after telling them that") take the subject of the verb they hang from,
    where a passive subject is the one who acts.
    """
    for child in verb.children:
        if child.dep_ in _SUBJECTS or (inherited and child.dep_ == "nsubjpass"):
            return child
        if child.dep_ == "nsubjpass":
            return _agent(verb)
    agent = _agent(verb)
    if agent is not None:
        return agent
    if verb.dep_ == "acl" and verb.head.pos_ in _NOMINAL and not _infinitive(verb):
        noun = verb.head  # "voters saying ...", "a statement calling for ..."; not "plans to address ..."
        if noun.dep_ in _OBJECTS and noun.head.pos_ in ("VERB", "AUX") and depth:
            # "the group placed ads calling the deal a mistake": the ads speak for who placed them
            return subject_of(noun.head, depth - 1, inherited=True) or noun
        return noun
    governing = _governing_verb(verb) if depth else None
    return subject_of(governing, depth - 1, inherited=True) if governing is not None else None


def _clause(token: Token) -> bool:
    """A verb that starts a clause, unlike a participle inside a noun phrase ("retired neurosurgeon")."""
    return token.pos_ in ("VERB", "AUX") and token.dep_ not in ("amod", "compound")


def speaker_beside_quote(verb: Token, quote_end: int) -> Token | None:
    """The speaker between a quote and its cue, or right after the cue, read off the surface.

    The parser often takes a quote's first word for the subject ("“We were wrong,” Ramos,
    58, told AFP": subject "We") or finds none ("“...,” said retired neurosurgeon Ben
    Carson, asked about ..."). Returns the head of the first nominal phrase there.
    """
    doc = verb.doc
    first = verb.i
    while first > 0 and doc[first - 1].idx >= quote_end:
        first -= 1
    before = [t for t in doc[first:verb.i] if not (t.is_punct or t.is_space)]
    if before:
        window = doc[first:verb.i]
    else:
        end = verb.i + 1
        while end < len(doc) and end - verb.i <= _MAX_BESIDE_TOKENS and not doc[end].is_punct and not _clause(doc[end]):
            end += 1
        window = doc[verb.i + 1:end]
    run = []
    for tok in window:
        if tok.is_punct and run:
            break
        if not tok.is_punct:
            run.append(tok)
    if not 0 < len(run) <= _MAX_BESIDE_TOKENS or any(_clause(t) for t in run):
        return None
    heads = [t for t in run if t.pos_ in _NOMINAL]
    return heads[-1] if heads else None
