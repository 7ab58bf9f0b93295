"""Past, present or future: the tense of the verb a phrase hangs on.

Dates without a year and bare weekdays are resolved towards the past or the future
depending on it ("said on Tuesday" vs "will meet on Tuesday"), and predictions weigh less
in check-worthiness.
"""

from __future__ import annotations

from typing import Literal

from spacy.tokens import Token

Tense = Literal["past", "present", "future"]

FUTURE_AUX = frozenset({"will", "'ll", "shall", "wo"})  # spaCy splits "won't" into "wo" + "n't"
MAX_HEAD_STEPS = 6


def governing_verb(token: Token) -> Token | None:
    """The nearest verb at or above ``token`` in the parse, a few steps at most."""
    for _ in range(MAX_HEAD_STEPS):
        if token.pos_ in ("VERB", "AUX") and token.dep_ not in ("aux", "auxpass"):
            return token
        if token.head is token:
            return None
        token = token.head
    return None


def tense_of(verb: Token) -> Tense:
    """The tense its auxiliaries and tag give a verb; "going to" counts as future."""
    auxes = [c for c in verb.children if c.dep_ in ("aux", "auxpass")]
    if any(a.lower_ in FUTURE_AUX for a in auxes):
        return "future"
    if verb.dep_ == "xcomp" and verb.head.lower_ == "going" and any(
        c.dep_ == "aux" and c.lower_ == "to" for c in verb.children
    ):
        return "future"
    if verb.tag_ == "VBD" or any(a.tag_ == "VBD" for a in auxes):
        return "past"
    if verb.tag_ == "VBN" and any(a.lemma_ == "have" for a in auxes):
        return "past"
    return "present"


def tense_at(token: Token) -> Tense:
    """The tense of the verb governing ``token``; present when no verb is found."""
    verb = governing_verb(token)
    return tense_of(verb) if verb is not None else "present"
