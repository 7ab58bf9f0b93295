"""The role tagger's input layer: its hashed token features beside the encoder's vectors.

spaCy's ``MultiHashEmbed`` embeds token attributes (and, optionally, static word vectors);
this layer does the same and adds the pretrained encoder's contextual vectors, which the
``encoder_features`` component (:mod:`workers.pipeline.encoder`) leaves in ``doc.tensor``.
They are a fixed input: no gradient goes back into the encoder (which is tuned beforehand, on its own:
:mod:`workers.training.tune_encoder`).
"""

from __future__ import annotations

from collections.abc import Callable

from spacy.ml.featureextractor import FeatureExtractor
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import HashEmbed, Linear, Maxout, Model, Ragged, chain, concatenate, list2ragged, ragged2list, with_array
from thinc.types import Floats2d

from workers.pipeline.encoder import WIDTH as ENCODER_WIDTH

EMBED = "claimwire.EncoderHashEmbed.v1"
FIRST_HASH_SEED = 8  # as spaCy's MultiHashEmbed seeds its tables


def _doc_tensors(model: Model, docs: list[Doc], is_train: bool) -> tuple[Ragged, Callable]:
    for doc in docs:
        if doc.tensor.shape != (len(doc), ENCODER_WIDTH):
            raise ValueError(f"doc.tensor is {doc.tensor.shape}, not the encoder's vectors: run encoder_features first")
    lengths = model.ops.asarray1i([len(doc) for doc in docs])
    data = model.ops.xp.concatenate([doc.tensor for doc in docs]) if docs else model.ops.alloc2f(0, ENCODER_WIDTH)
    return Ragged(model.ops.asarray2f(data), lengths), lambda d_output: []


def DocTensors() -> Model[list[Doc], Ragged]:
    """The encoder's vectors of every token, read from ``doc.tensor``."""
    return Model("doc_tensors", _doc_tensors, dims={"nO": ENCODER_WIDTH})


@registry.architectures(EMBED)
def encoder_hash_embed(width: int, attrs: list[str], rows: list[int]) -> Model[list[Doc], list[Floats2d]]:
    """Hashed embeddings of ``attrs`` and the encoder's vectors projected to ``width``, mixed by a maxout."""
    tables = [HashEmbed(width, n_rows, column=i, seed=FIRST_HASH_SEED + i, dropout=0.0) for i, n_rows in enumerate(rows)]
    hashed = chain(FeatureExtractor(attrs), list2ragged(), with_array(concatenate(*tables)))
    encoded = chain(DocTensors(), with_array(Linear(width, ENCODER_WIDTH)))
    return chain(
        concatenate(hashed, encoded),
        with_array(Maxout(width, width * (len(attrs) + 1), nP=3, dropout=0.0, normalize=True)),
        ragged2list(),
    )
