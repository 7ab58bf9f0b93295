"""The pretrained encoder: its weights are checked, its windows cover a text once, its vectors
line up with the tokens, and the tagger refuses a doc without them."""

from __future__ import annotations

import numpy as np
import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc

from workers.pipeline import encoder_graph
from workers.pipeline.encoder import WIDTH, WINDOW_PIECES, _windows, get_encoder
from workers.pipeline.encoder_graph import EncoderUnavailable, weights_dir
from workers.pipeline.model import load_nlp
from workers.pipeline.tagger_layers import DocTensors

_NLP = spacy.blank("en")
_NLP.add_pipe("sentencizer")


def sentences_doc(lengths: list[int], breaks: list[bool]) -> Doc:
    """A doc of sentences of ``lengths`` words each (the last word of each is "end."), each
    followed by a line break where ``breaks`` says so."""
    text = "".join(" ".join(["w"] * (n - 1) + ["end."]) + ("\n" if brk else " ") for n, brk in zip(lengths, breaks))
    return _NLP(text)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=1, max_value=600), st.booleans()), min_size=1, max_size=12))
def test_windows_cover_every_piece_once_and_break_between_sentences_and_at_line_breaks(
        sentences: list[tuple[int, bool]]) -> None:
    doc = sentences_doc([n for n, _ in sentences], [brk for _, brk in sentences])
    words = [token for token in doc if not token.is_space]
    starts = np.array([token.idx for token in words])  # one word piece per word
    windows = list(_windows(doc, starts))
    assert windows[0][0] == 0 and windows[-1][1] == len(starts)
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:]))
    assert all(0 < end - start <= WINDOW_PIECES for start, end in windows)
    for start, end in windows:
        assert "\n" not in doc.text[starts[start]:starts[end - 1]]
    sentence_starts = {sent.start_char for sent in doc.sents}
    for _, end in windows[:-1]:
        # a window ends at a line break, at a sentence start, or inside a sentence longer than a window
        if "\n" not in doc.text[starts[end - 1]:starts[end]] and starts[end] not in sentence_starts:
            assert len([t for t in words[end].sent if not t.is_space]) > WINDOW_PIECES


def test_a_paragraph_gets_the_same_vectors_wherever_it_stands() -> None:
    paragraph = "The minister said taxes would rise. Critics called that a mistake."
    before = "An earlier story ran here. " * 12 + "\n\n"
    alone = load_nlp()(paragraph)
    placed = load_nlp()(before + paragraph)
    offset = len(placed) - len(alone)
    assert [t.text for t in placed[offset:]] == [t.text for t in alone]
    assert np.allclose(get_encoder().token_vectors(placed)[offset:], get_encoder().token_vectors(alone), atol=1e-6)


def test_every_token_gets_a_vector_and_whitespace_gets_zeros() -> None:
    doc = load_nlp().make_doc('He said the talks failed.\n\n  "We will see," she added. \u2603')
    vectors = get_encoder().token_vectors(doc)
    assert vectors.shape == (len(doc), WIDTH) and vectors.dtype == np.float32
    for token, vector in zip(doc, vectors):
        assert (not np.any(vector)) == token.is_space, token.text
    assert np.array_equal(vectors, get_encoder().token_vectors(doc))


def test_a_text_with_no_word_piece_gets_zeros() -> None:
    doc = load_nlp().make_doc("   \n ")
    assert not np.any(get_encoder().token_vectors(doc))
    assert get_encoder().token_vectors(load_nlp().make_doc("")).shape == (0, WIDTH)


def test_the_same_words_differ_by_their_context() -> None:
    """Contextual, not a lookup table: "said" after a person and in another sentence differ."""
    doc = load_nlp()("The minister said no. The river bank said nothing at all to anyone.")
    vectors = get_encoder().token_vectors(doc)
    first, second = [token.i for token in doc if token.text == "said"]
    assert not np.allclose(vectors[first], vectors[second])


def test_weights_that_are_not_the_official_ones_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert weights_dir().joinpath("model.safetensors").exists()
    monkeypatch.setitem(encoder_graph.OFFICIAL_SHA256, "model.safetensors", "0" * 64)
    with pytest.raises(EncoderUnavailable, match="not the official file"):
        weights_dir()


def test_the_tagger_input_refuses_a_doc_without_the_encoders_vectors() -> None:
    doc = _NLP("He said so.")
    doc.tensor = np.zeros((len(doc), 96), dtype=np.float32)  # what the stock tok2vec leaves
    layer = DocTensors()
    with pytest.raises(ValueError, match="encoder_features"):
        layer.predict([doc])
    doc.tensor = np.ones((len(doc), WIDTH), dtype=np.float32)
    assert layer.predict([doc]).data.shape == (len(doc), WIDTH)


def test_a_fresh_build_gives_the_vectors_of_the_installed_encoder(tmp_path) -> None:
    """The graph is rebuilt from the checked weights alone (``claimwire build-encoder``), with
    nothing left beside it but the finished file."""
    from workers.pipeline.encoder import ENCODER_FILE, Encoder
    from workers.pipeline.encoder_graph import build_int8

    built = build_int8(weights_dir(), tmp_path / "encoder.onnx")
    assert [p.name for p in tmp_path.iterdir()] == ["encoder.onnx"]
    doc = load_nlp()("The minister said taxes would rise. Critics called that a mistake.")
    fresh = Encoder(built).token_vectors(doc)
    assert ENCODER_FILE.exists()
    assert np.allclose(fresh, get_encoder().token_vectors(doc), atol=1e-5)
