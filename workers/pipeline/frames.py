"""Verb frames: how a verb hangs its reported content ("said THAT...", "wants TO...", "denied X").

The frame is both a feature of the learned cue lexicon (is "show" a cue when it takes
a clause? when it takes an object?) and the way to find the content's head token.
"""

from __future__ import annotations

from spacy.tokens import Token

# Prepositions that introduce reported content ("called for", "talked about").
CONTENT_PREPS = frozenset({"about", "for", "on", "to", "of", "against", "with", "that"})
# Prepositions that complete an object cue ("accused X of ...", "blamed X on ...", "described X as ...").
OBJECT_COMPLEMENT_PREPS = frozenset({"of", "for", "as", "on", "to", "with", "about", "against", "from"})


def frame_of(verb: Token) -> tuple[str, Token | None]:
    """(frame name, head token of the content) for a verb; ("none", None) when it takes nothing."""
    children = list(verb.children)
    for dep in ("ccomp", "xcomp"):
        comp = next((c for c in children if c.dep_ == dep), None)
        if comp is not None:
            return dep, comp
    obj = next((c for c in children if c.dep_ in ("dobj", "attr") and c.pos_ != "PRON"), None)
    if obj is not None:
        return "dobj", obj
    prep = next((c for c in children if c.dep_ == "prep" and c.lower_ in CONTENT_PREPS and c.i > verb.i), None)
    if prep is not None and any(g.dep_ in ("pobj", "pcomp") for g in prep.children):
        return f"prep:{prep.lower_}", prep
    if verb.dep_ in ("parataxis", "ccomp") and verb.head.i < verb.i:
        return "after", verb.head
    return "none", None
