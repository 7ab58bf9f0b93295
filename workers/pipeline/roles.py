"""The learned role tagger: which tokens are a source, a cue or a content, in BIO spans.

A spaCy ``ner`` component with its own small tok2vec (word shape and the parser's tags
and dependency labels as features, beside a pretrained encoder's token vectors, which the
``encoder_features`` component computes just before it), trained on annotated news by
:mod:`workers.training.train_roles` and shipped in ``data/roles``. It runs after the
stock pipeline: ``hide_entities`` moves the named entities aside so the tagger starts from
a clean slate (a transition-based tagger keeps entities already set), and
``reveal_entities`` moves its spans to ``doc.spans[ROLES]`` and puts the named entities back.
The attribution corpus is univocal (a token has one role at most), so one BIO layer
encodes it exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from workers.pipeline.encoder import COMPONENT as ENCODER
from workers.pipeline.tagger_layers import EMBED

ROLES = "roles"
LABELS = ("SOURCE", "CUE", "CONTENT")
MODEL_DIR = Path(__file__).with_name("data") / "roles"
HIDE, TAGGER, REVEAL = "hide_entities", "roles", "reveal_entities"
TAGGER_PIPES = (ENCODER, HIDE, TAGGER, REVEAL)
_STASH = "named_entities"

# The tagger's network: a hashed embedding of word form and parse labels beside the encoder's
# token vectors, a 4-layer CNN (each token sees 4 neighbours each side), and the
# transition-based span model.
TAGGER_CONFIG: dict[str, Any] = {
    "model": {
        "@architectures": "spacy.TransitionBasedParser.v2",
        "state_type": "ner",
        "extra_state_tokens": False,
        "hidden_width": 64,
        "maxout_pieces": 2,
        "use_upper": True,
        "nO": None,
        "tok2vec": {
            "@architectures": "spacy.Tok2Vec.v2",
            "embed": {
                "@architectures": EMBED,
                "width": 96,
                "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE", "TAG", "DEP"],
                "rows": [5000, 1000, 2500, 1000, 500, 500],
            },
            "encode": {
                "@architectures": "spacy.MaxoutWindowEncoder.v2",
                "width": 96,
                "depth": 4,
                "window_size": 1,
                "maxout_pieces": 3,
            },
        },
    },
}


@Language.component(HIDE)
def hide_entities(doc: Doc) -> Doc:
    """Set the named entities aside and leave every token's entity unset for the tagger."""
    doc.user_data[_STASH] = list(doc.ents)
    doc.set_ents([], default="missing")
    return doc


@Language.component(REVEAL)
def reveal_entities(doc: Doc) -> Doc:
    """Move the tagger's spans to ``doc.spans[ROLES]`` and restore the named entities."""
    doc.spans[ROLES] = list(doc.ents)
    doc.set_ents(doc.user_data.pop(_STASH, []), default="outside")
    return doc


def add_tagger(nlp: Language, model_dir: Path = MODEL_DIR) -> Language:
    """Append the trained role tagger to ``nlp``; without a trained model, add nothing."""
    if not (model_dir / "cfg").exists():
        return nlp
    nlp.add_pipe(ENCODER)
    nlp.add_pipe(HIDE)
    tagger = nlp.add_pipe("ner", name=TAGGER, config=TAGGER_CONFIG)
    tagger.from_disk(model_dir, exclude=["vocab"])
    nlp.add_pipe(REVEAL)
    return nlp


def fresh_tagger(nlp: Language) -> Any:
    """An untrained role tagger on ``nlp`` with the three labels (for training)."""
    tagger = nlp.add_pipe("ner", name=TAGGER, config=TAGGER_CONFIG)
    for label in LABELS:
        tagger.add_label(label)
    return tagger
