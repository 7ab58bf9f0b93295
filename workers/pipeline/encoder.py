"""The pretrained encoder's token vectors, which the role tagger reads beside its own features.

The tagger learns from a few hundred annotated documents; a pretrained encoder brings what it
learnt from far more text (which words report speech, where a clause ends). The encoder
(:mod:`workers.pipeline.encoder_graph`) runs under ONNX Runtime on one thread, over windows of
whole sentences of at most ``WINDOW_PIECES`` word pieces, each window once: the cost grows
linearly with the text. A window never runs over a line break: the same paragraph gets the same
vectors wherever it stands (a long text is parsed in chunks, and an article is extracted the same
alone or after others). A token's vector is the mean of its word pieces' vectors; a token
with no word piece (whitespace, a character the vocabulary lacks) gets zeros. The component
``encoder_features`` puts the vectors in ``doc.tensor``, where the tagger's input layer
(:mod:`workers.pipeline.tagger_layers`) reads them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
from spacy.attrs import IDX, LENGTH
from spacy.language import Language
from spacy.tokens import Doc
from tokenizers import Tokenizer

from workers.pipeline.encoder_graph import ADAPTER_FILE, BUILDER_ID, build_int8, weights_dir

ENCODER_FILE = Path(__file__).with_name("data") / "encoder" / f"minilm-l6-int8-{BUILDER_ID}.onnx"
COMPONENT = "encoder_features"
WIDTH = 384
WINDOW_PIECES = 254  # word pieces of text per window; with its two markers 256
CLS, SEP = 101, 102
_LINE_BREAK = re.compile(r"\n")


def word_piece_tokenizer(folder: Path) -> Tokenizer:
    """The encoder's own tokenizer from its weights ``folder``, without truncation or padding
    (the windows are cut here)."""
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


class Encoder:
    """The word-piece tokenizer and the int8 encoder session of one process."""

    def __init__(self, model: Path = ENCODER_FILE, adapter: Path = ADAPTER_FILE) -> None:
        import onnxruntime

        folder = weights_dir()
        if not model.exists():
            build_int8(folder, model, adapter)
        self.tokenizer = word_piece_tokenizer(folder)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])

    def token_vectors(self, doc: Doc) -> np.ndarray:
        """One ``WIDTH``-wide vector per token of ``doc`` (float32)."""
        vectors = np.zeros((len(doc), WIDTH), dtype=np.float32)
        encoding = self.tokenizer.encode(doc.text, add_special_tokens=False)
        if not encoding.ids:
            return vectors
        ids = np.asarray(encoding.ids, dtype=np.int64)
        offsets = np.asarray(encoding.offsets, dtype=np.int64)
        pieces = np.empty((len(ids), WIDTH), dtype=np.float32)
        for start, end in _windows(doc, offsets[:, 0]):
            window = np.concatenate(([CLS], ids[start:end], [SEP]))[None, :]
            pieces[start:end] = self.session.run(None, {"ids": window})[0][0, 1:-1]
        owner, owned = piece_owners(doc, offsets[:, 0])
        counts = np.bincount(owner[owned], minlength=len(doc)).astype(np.float32)
        np.add.at(vectors, owner[owned], pieces[owned])
        vectors[counts > 0] /= counts[counts > 0, None]
        return vectors


def piece_owners(doc: Doc, piece_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The index of the token each word piece starts in, and whether it starts in one at all
    (a piece of whitespace between tokens does not)."""
    token_starts = doc.to_array(IDX).astype(np.int64)
    token_ends = token_starts + doc.to_array(LENGTH).astype(np.int64)
    owner = np.searchsorted(token_starts, piece_starts, side="right") - 1
    owned = (owner >= 0) & (piece_starts < token_ends[np.maximum(owner, 0)])
    return owner, owned


def _windows(doc: Doc, piece_starts: np.ndarray) -> Iterator[tuple[int, int]]:
    """Ranges of word pieces covering every piece once: the sentences of one paragraph packed
    into ranges of at most ``WINDOW_PIECES`` pieces (a longer sentence cut into ranges of that
    size), never across a line break, so that a paragraph's vectors do not depend on the text
    before it. A doc without sentence boundaries counts as one sentence per paragraph."""
    sentence_starts = [sent.start_char for sent in doc.sents][1:] if doc.has_annotation("SENT_START") else []
    line_starts = [match.end() for match in _LINE_BREAK.finditer(doc.text)]
    paragraph_bounds = set(np.searchsorted(piece_starts, line_starts).tolist())
    bounds = sorted(paragraph_bounds.union(np.searchsorted(piece_starts, sentence_starts).tolist()))
    start = end = 0
    for bound in [*bounds, len(piece_starts)]:
        if bound - start > WINDOW_PIECES and end > start:
            yield start, end
            start = end
        while bound - start > WINDOW_PIECES:
            yield start, start + WINDOW_PIECES
            start += WINDOW_PIECES
        end = bound
        if bound in paragraph_bounds and end > start:
            yield start, end
            start = end
    if end > start:
        yield start, end


@lru_cache(maxsize=1)
def get_encoder() -> Encoder:
    """The process's encoder; loaded once, as the spaCy pipeline is."""
    return Encoder()


@Language.component(COMPONENT)
def encoder_features(doc: Doc) -> Doc:
    """Set ``doc.tensor`` to the encoder's token vectors."""
    doc.tensor = get_encoder().token_vectors(doc)
    return doc
