"""The remembered lemmas are the stock rule lemmatizer's, token for token."""

from __future__ import annotations

import pytest
from spacy.attrs import LEMMA
from spacy.language import Language
from spacy.tokens import Doc

from workers.pipeline import lemma_cache
from workers.pipeline.lemma_cache import CACHED, STOCK, CachedLemmatizer
from workers.pipeline.model import load_nlp

TEXTS = [
    "The ministers said they were going to vote, and the minister says she will vote.",
    "We're gon na win, y'all. He'd've known; she's been saying it for years.",
    "Critics argued that the plans were flawed. Better data, worse outcomes, the best of them.",
    "Officials in Washington (AFP) denied it.\n\n  “It is false,” said Ms. Tanaka, 54.",
    # The same word as another part of speech, with another lemma.
    "She saw the saw. He leaves when the leaves fall, and the meeting was meeting resistance.",
    "   ",
    "",
]


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_nlp()


def before_lemmas(nlp: Language, text: str) -> Doc:
    with nlp.select_pipes(enable=nlp.pipe_names[:nlp.pipe_names.index(CACHED)]):
        return nlp(text)


def test_the_loaded_pipeline_remembers_lemmas_with_the_stock_lemmatizer_kept_disabled(nlp: Language) -> None:
    assert CACHED in nlp.pipe_names and STOCK not in nlp.pipe_names
    assert STOCK in nlp.disabled
    assert nlp.pipe_names.index(CACHED) == nlp.pipe_names.index("attribute_ruler") + 1


@pytest.mark.parametrize("text", TEXTS)
def test_every_token_gets_the_stock_lemmatizers_lemma(nlp: Language, text: str) -> None:
    doc = before_lemmas(nlp, text)
    stock, remembered = doc.copy(), doc.copy()
    nlp.get_pipe(STOCK)(stock)
    for _ in range(2):  # asking, then remembering
        nlp.get_pipe(CACHED)(remembered)
        assert remembered.to_array([LEMMA]).tolist() == stock.to_array([LEMMA]).tolist()


def test_a_lemma_set_before_is_kept(nlp: Language) -> None:
    doc = before_lemmas(nlp, "They said so.")
    doc[1].lemma_ = "declare"
    nlp.get_pipe(CACHED)(doc)
    assert [t.lemma_ for t in doc] == ["they", "declare", "so", "."]


def test_the_memo_starts_afresh_past_its_bound(nlp: Language, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lemma_cache, "MAX_REMEMBERED", 3)
    cached = CachedLemmatizer(nlp.get_pipe(STOCK))
    cached(before_lemmas(nlp, "Five different words are here."))
    assert len(cached.lemmas) > 3
    doc = cached(before_lemmas(nlp, "Then two."))
    assert len(cached.lemmas) == 3
    assert [t.lemma_ for t in doc] == ["then", "two", "."]
