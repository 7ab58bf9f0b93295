"""The learned cue lexicon: how often a verb lemma in a given frame reports a claim.

Counts come from annotated news (see ``workers/training/train_cues.py`` and the model
card ``workers/pipeline/data/MODEL_CARD.md``). A lemma never seen in training falls
back to the hand-written lexicon in :mod:`workers.pipeline.cues` as its prior.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from workers.pipeline.cues import hand_prior

LEXICON_PATH = Path(__file__).with_name("data") / "cue_frames.json"
# Pseudo-counts of the prior: how much evidence it takes to overrule the hand lexicon.
PRIOR_WEIGHT = 2.0
KNOWN_PRIOR = 0.5
UNKNOWN_PRIOR = 0.01


class CueLexicon:
    """P(cue | lemma, frame) with the hand lexicon as a smoothing prior."""

    def __init__(self, counts: dict[str, dict[str, list[int]]], threshold: float) -> None:
        self.counts = counts
        self.threshold = threshold

    def probability(self, lemma: str, frame: str) -> float:
        prior = KNOWN_PRIOR if hand_prior(lemma, frame) else UNKNOWN_PRIOR
        cue, total = self.counts.get(lemma, {}).get(frame, (0, 0))
        return (cue + PRIOR_WEIGHT * prior) / (total + PRIOR_WEIGHT)

    def is_cue(self, lemma: str, frame: str) -> bool:
        return frame != "none" and self.probability(lemma, frame) >= self.threshold


@lru_cache(maxsize=1)
def load_lexicon(path: Path = LEXICON_PATH) -> CueLexicon:
    """The committed lexicon; an empty one (hand lexicon only) when none has been trained."""
    if not path.exists():
        return CueLexicon({}, threshold=0.3)
    data = json.loads(path.read_text(encoding="utf-8"))
    return CueLexicon(data["counts"], data["threshold"])
