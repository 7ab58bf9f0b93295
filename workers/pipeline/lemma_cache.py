"""Lemmas set for a whole document at once, each asked of the stock lemmatizer once per kind of token.

The English model's rule lemmatizer walks the tokens in Python and remembers only the lemmas
of inflected words; for a base form (a singular noun, an infinitive, most of a text) it runs
its checks again at every occurrence. Its lemma depends on the token's word, part of speech
and morphology alone (they are its own memo's key), so this component, which takes its place,
asks it once per distinct (word, part of speech, morphology), remembers the answer, and writes
the document's lemmas as one array. Tokens that already have a lemma (the attribute ruler sets
some) keep it, as with the stock component.
"""

from __future__ import annotations

from typing import Any

from spacy.attrs import LEMMA, MORPH, ORTH, POS
from spacy.language import Language
from spacy.tokens import Doc

STOCK = "lemmatizer"
CACHED = "cached_lemmatizer"
# Distinct tokens remembered before the memo starts afresh (about 150 bytes each); the 426 dev
# articles hold some 25,000.
MAX_REMEMBERED = 100_000


class CachedLemmatizer:
    """The stock lemmatizer's lemmas, remembered by (word, part of speech, morphology)."""

    def __init__(self, stock: Any) -> None:
        self.stock = stock
        self.lemmas: dict[tuple[int, int, int], int] = {}

    def __call__(self, doc: Doc) -> Doc:
        rows = doc.to_array([ORTH, POS, MORPH, LEMMA])
        if len(self.lemmas) > MAX_REMEMBERED:
            self.lemmas.clear()
        strings = doc.vocab.strings
        lemmas = rows[:, 3].copy()
        for i, (orth, pos, morph, lemma) in enumerate(rows.tolist()):
            if lemma and not self.stock.overwrite:
                continue
            key = (orth, pos, morph)
            found = self.lemmas.get(key)
            if found is None:
                found = self.lemmas[key] = strings.add(self.stock.lemmatize(doc[i])[0])
            lemmas[i] = found
        doc.from_array([LEMMA], lemmas.reshape(-1, 1))
        return doc


@Language.factory(CACHED)
def make_cached_lemmatizer(nlp: Language, name: str) -> CachedLemmatizer:
    return CachedLemmatizer(nlp.get_pipe(STOCK))


def cache_lemmas(nlp: Language) -> Language:
    """Put :class:`CachedLemmatizer` in place of ``nlp``'s rule lemmatizer, which stays loaded, disabled."""
    if STOCK not in nlp.pipe_names or nlp.get_pipe(STOCK).mode != "rule":
        return nlp
    nlp.add_pipe(CACHED, after=STOCK)
    nlp.disable_pipe(STOCK)
    return nlp
