"""The attribute ruler's indexed matcher finds exactly what spaCy's ``Matcher`` finds, and sets the same attributes."""

from __future__ import annotations

import pytest
import spacy
from spacy.attrs import DEP, LEMMA, MORPH, POS, TAG
from spacy.language import Language
from spacy.tokens import Doc

from workers.pipeline.attribute_index import RULER, IndexedMatcher, index_attribute_ruler
from workers.pipeline.model import load_nlp

# The ruler's exceptions (two-token words, regular expressions, pronoun cases, auxiliaries,
# expletives, whitespace tokens) and ordinary news sentences.
TEXTS = [
    "We're gon na win, and y'all got ta see it. Let's go, he said.",
    "It ai n't over. Ain't nothin' gonna stop us, she said.\n\n  I told you it was done.",
    "There is a plan. There were doubts, but officials said it would close on Tuesday.",
    "I saw it; you saw me. They told it to you, and it told them nothing.",
    "Did he have a point? He does, and he did what he had to do.",
    "The minister, who has denied the claims, said:  \u201cThat is false.\u201d\n\n\nBut critics disagree.",
    "   ",
    "",
]
ATTRS = [POS, TAG, DEP, LEMMA, MORPH]


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_nlp()


def before_ruler(nlp: Language, text: str) -> Doc:
    """``text`` through the pipeline up to the attribute ruler, not including it."""
    with nlp.select_pipes(enable=nlp.pipe_names[:nlp.pipe_names.index(RULER)]):
        return nlp(text)


def test_the_loaded_pipeline_finds_the_rulers_matches_by_index(nlp: Language) -> None:
    assert isinstance(nlp.get_pipe(RULER).matcher, IndexedMatcher)


@pytest.mark.parametrize("text", TEXTS)
def test_the_index_finds_exactly_the_matches_and_sets_exactly_the_attributes_of_spacys_matcher(
        nlp: Language, text: str) -> None:
    ruler = nlp.get_pipe(RULER)
    indexed, original = ruler.matcher, ruler.matcher.original
    doc = before_ruler(nlp, text)
    found = indexed(doc, allow_missing=True)
    assert sorted(found) == sorted(set(original(doc, allow_missing=True, as_spans=False)))
    by_index, by_spacy = doc.copy(), doc.copy()
    ruler(by_index)
    ruler.matcher = original
    try:
        ruler(by_spacy)
    finally:
        ruler.matcher = indexed
    assert by_index.to_array(ATTRS).tolist() == by_spacy.to_array(ATTRS).tolist()


def test_a_pattern_the_index_does_not_know_keeps_spacys_matcher() -> None:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe(RULER)
    ruler.add([[{"ORTH": "said"}]], {"LEMMA": "say"})
    index_attribute_ruler(nlp)
    assert not isinstance(ruler.matcher, IndexedMatcher)
    assert nlp("He said so")[1].lemma_ == "say"
