"""The rule lemmatizer gives the same lemmas with its known-word lists as sets."""

from __future__ import annotations

import pytest
import spacy
from spacy.attrs import LEMMA
from spacy.language import Language

from workers.pipeline.lemma_lookup import INDEX_TABLE, LEMMATIZER, index_lemmas_as_sets
from workers.pipeline.model import load_nlp

TEXTS = [
    "The ministers said they were going to vote, and the minister says she will vote.",
    "Critics argued that the plans were flawed. Better data, worse outcomes, the best of them.",
    "She saw the saw. He leaves when the leaves fall, and the meeting was meeting resistance.",
    "The geese, the mice and the analyses were quoted; wolves howled and knives were drawn.",
    "Officials in Washington (AFP) denied it.\n\n  “It is false,” said Ms. Tanaka, 54.",
]


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_nlp()


def lemmas(nlp: Language) -> list[list[int]]:
    nlp.get_pipe(LEMMATIZER).cache = {}
    return [doc.to_array([LEMMA]).tolist() for doc in nlp.pipe(TEXTS)]


def test_the_loaded_lemmatizer_looks_its_words_up_in_sets(nlp: Language) -> None:
    table = nlp.get_pipe(LEMMATIZER).lookups.get_table(INDEX_TABLE)
    assert len(table) == 4
    assert all(isinstance(words, frozenset) and len(words) > 1000 for _, words in table.items())


def test_the_lemmas_are_those_of_the_shipped_lists(nlp: Language) -> None:
    with_sets = lemmas(nlp)
    shipped = _with_lists(nlp)
    assert with_sets == shipped
    words = [t.lemma_ for t in nlp("The ministers saw the geese.")]
    assert words == ["the", "minister", "see", "the", "goose", "."]


def _with_lists(nlp: Language) -> list[list[int]]:
    """The lemmas with the lists the model ships (and an empty memo); the sets are put back after."""
    lemmatizer = nlp.get_pipe(LEMMATIZER)
    table = lemmatizer.lookups.get_table(INDEX_TABLE)
    sets, memo = dict(table.items()), lemmatizer.cache
    try:
        for pos, words in sets.items():
            table[pos] = sorted(words)
        assert all(isinstance(words, list) for _, words in table.items())
        return lemmas(nlp)
    finally:
        for pos, words in sets.items():
            table[pos] = words
        lemmatizer.cache = memo


def test_a_pipeline_without_the_lemmatizer_is_left_as_it_is() -> None:
    blank = spacy.blank("en")
    assert index_lemmas_as_sets(blank) is blank and blank.pipe_names == []
