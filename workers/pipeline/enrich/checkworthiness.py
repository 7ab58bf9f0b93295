"""How much a claim is worth checking, in [0, 1]: a small logistic formula over plain features.

What a fact-checker can verify is a statement of fact about the world: it names people,
places or organisations, gives numbers and dates, and reports what happened. Opinion,
hedged or predicted content, questions and fragments cannot be checked, or not yet.
Each feature is 0/1 (entities: share of three, capped), and the score is

    sigmoid(BIAS + sum(WEIGHTS[f] * value of f))

The weights are set by hand to rank, not fitted: no check-worthiness annotations for this
corpus exist. With no feature present a claim scores sigmoid(BIAS) ~ 0.38; a past-tense
report with a number, a date and entities ~ 0.96; a hedged opinion ~ 0.05. Superlatives are
left alone: "the highest rate since 1990" is a checkable claim.
"""

from __future__ import annotations

import math

from spacy.tokens import Doc, Token

from workers.claims import Claim
from workers.pipeline.enrich.regions import Region, region_tokens
from workers.pipeline.enrich.tense import FUTURE_AUX, tense_of

BIAS = -0.5
WEIGHTS: dict[str, float] = {
    "number": 1.3,      # a quantity with a value: "16 people killed"
    "date": 0.8,        # a time expression: "on March 19"
    "entities": 1.0,    # named people, places, organisations (share of ENTITY_CAP)
    "past_event": 0.6,  # the main verb reports what happened
    "hedge": -1.2,      # "may", "possibly", "believe", or a hedging cue ("suggested")
    "prediction": -0.9, # "will", "going to", "expect"
    "opinion": -1.3,    # evaluative words ("disgrace", "best"), "should", "must"
    "question": -1.0,   # ends with a question mark
    "fragment": -1.0,   # fewer than MIN_WORDS words: too vague to check
}
ENTITY_CAP = 3
MIN_WORDS = 4
HEDGING_MODALS = frozenset({"may", "might", "could"})
HEDGES = frozenset({
    "perhaps", "possibly", "probably", "likely", "maybe", "seemingly", "apparently", "allegedly",
    "reportedly", "seem", "appear", "believe", "think", "suspect", "guess", "suppose", "assume",
    "feel", "hope", "suggest",
})
NORMATIVE_MODALS = frozenset({"should", "must", "ought"})
PREDICTIONS = frozenset({"expect", "predict", "forecast", "plan", "intend", "anticipate", "soon"})
EVALUATIVE = frozenset({
    "good", "bad", "great", "terrible", "horrible", "awful", "wonderful", "fantastic", "amazing",
    "incredible", "disaster", "disastrous", "disgrace", "disgraceful", "shameful", "shame",
    "ridiculous", "stupid", "absurd", "outrageous", "unacceptable", "unfair", "wrong", "failure",
    "dire", "tremendous", "beautiful", "dangerous", "crazy", "pathetic", "sad", "brilliant",
    "excellent", "nice", "evil", "dishonest", "corrupt", "dumb", "foolish", "best", "worst",
})


def score(doc: Doc, claim: Claim, regions: list[Region]) -> float:
    """Check-worthiness of a claim whose quantities, times and entities are already filled."""
    features = feature_values(doc, claim, regions)
    z = BIAS + sum(WEIGHTS[name] * value for name, value in features.items())
    return round(1.0 / (1.0 + math.exp(-z)), 4)


def feature_values(doc: Doc, claim: Claim, regions: list[Region]) -> dict[str, float]:
    """The value of every feature in :data:`WEIGHTS` for this claim."""
    tokens = [t for span in region_tokens(doc, regions) for t in span]
    words = [t for t in tokens if t.is_alpha or t.like_num]
    modals = {t.lower_ for t in tokens if t.tag_ == "MD"}
    lemmas = {t.lemma_.lower() for t in tokens if t.tag_ != "MD"}
    stance = claim.cue.stance if claim.cue is not None else None
    last = next((t for t in reversed(tokens) if not t.is_quote and not t.is_space), None)
    return {
        "number": float(any(q.value is not None for q in claim.quantities)),
        "date": float(bool(claim.time_expressions)),
        "entities": min(len(claim.entities), ENTITY_CAP) / ENTITY_CAP,
        "past_event": float(any(tense_of(v) == "past" for v in _main_verbs(tokens))),
        "hedge": float(bool(modals & HEDGING_MODALS or lemmas & HEDGES) or stance == "suggests"),
        "prediction": float(bool(modals & FUTURE_AUX or lemmas & PREDICTIONS) or _going_to(tokens)),
        "opinion": float(bool(modals & NORMATIVE_MODALS or lemmas & EVALUATIVE)),
        "question": float(last is not None and last.text == "?"),
        "fragment": float(len(words) < MIN_WORDS),
    }


def _main_verbs(tokens: list[Token]) -> list[Token]:
    """Verbs of the content whose head lies outside it: the content's own main verbs."""
    inside = {t.i for t in tokens}
    return [t for t in tokens if t.pos_ in ("VERB", "AUX") and (t.head.i not in inside or t.head.i == t.i)]


def _going_to(tokens: list[Token]) -> bool:
    """ "is going to happen": "going" followed by an infinitive's "to"."""
    pairs = zip(tokens, tokens[1:])
    return any(a.lower_ == "going" and b.lower_ == "to" and b.tag_ == "TO" for a, b in pairs)
