"""Claimant mentions: who a cue's claim belongs to, as written next to the cue."""

from __future__ import annotations

from spacy.tokens import Token

from workers.pipeline.candidates import CharSpan

_SUBJECTS = ("nsubj", "csubj")
_INHERITING = ("conj", "advcl", "xcomp")
# Clauses that follow a speaker's name but are not part of the mention.
_DROP = ("relcl", "acl", "punct", "cc", "conj", "advcl", "prep")


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
    elif verb.dep_ not in _INHERITING:
        return None
    return head if head is not verb and head.pos_ in ("VERB", "AUX") else None


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
    if verb.dep_ == "acl" and verb.head.pos_ in ("NOUN", "PROPN", "PRON"):
        return verb.head  # "voters saying ...", "a statement calling for ..."
    governing = _governing_verb(verb) if depth else None
    return subject_of(governing, depth - 1, inherited=True) if governing is not None else None
