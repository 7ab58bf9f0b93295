"""Cue lexicon and cue spans: which words report a claim, and with what stance.

Attribution in news is broad: speech ("said"), writing ("tweeted"), belief ("believes"),
intention ("wants", "plans"), findings ("the poll shows") and criticism ("blasted").
Each cue lemma carries the stance class the API reports.
"""

from __future__ import annotations

from spacy.tokens import Span as SpacySpan
from spacy.tokens import Token

from workers.claims import Stance

_STANCE_WORDS: dict[Stance, str] = {
    "asserts": """
        say tell add write note state explain respond reply answer comment remark recall
        continue tweet post report describe argue insist maintain stress emphasize emphasise
        point observe testify acknowledge admit concede confirm agree reiterate repeat
        assert affirm conclude find show reveal indicate demonstrate
        mention quote cite joke quip ask wonder question lament complain boast brag
        praise criticize criticise blast slam attack accuse blame condemn defend
        urge call demand recommend request vow pledge promise swear threaten
        know think believe feel see consider expect hope fear worry want wish
        predict estimate calculate figure guess assume understand realize realise
        remember disagree support oppose endorse reject favor favour back
        characterize label dub brand read
    """,
    "claims": "claim allege charge contend purport",
    "denies": "deny dispute refute rebut contradict dismiss",
    "suggests": "suggest hint imply speculate seem appear signal caution warn",
    "announces": "announce declare unveil proclaim disclose publish release launch propose plan intend",
}


def _stance_of_lemmas() -> dict[str, Stance]:
    """Each lemma's one stance class; a lemma listed twice is a mistake in the lexicon."""
    stances: dict[str, Stance] = {}
    for stance, words in _STANCE_WORDS.items():
        for word in words.split():
            if word in stances:
                raise ValueError(f"cue lemma {word!r} is listed under {stances[word]!r} and {stance!r}")
            stances[word] = stance
    return stances


STANCE_OF: dict[str, Stance] = _stance_of_lemmas()

# Verbs whose direct object is itself the content ("denied the report", "praised Trump"); for
# "ask" only an object that is not whom it asks (ADDRESSEE_VERBS below: "asked [the senator]").
OBJECT_VERBS: frozenset[str] = frozenset("""
    announce deny dispute reject propose endorse support oppose praise criticize criticise
    blast slam condemn defend unveil predict promise pledge vow want demand urge request
    recommend reveal confirm acknowledge admit question dismiss blame accuse back favor
    favour claim ask describe call suggest report tweet
""".split())

# Verbs whose bare object is whom something is said to, not what is said ("told reporters",
# "asked the senator", "reminding voters"); the claim is elsewhere (a quote, a clause).
ADDRESSEE_VERBS: frozenset[str] = frozenset("tell ask remind inform warn assure brief".split())


def hand_prior(lemma: str, frame: str) -> bool:
    """Whether the hand lexicon takes ``lemma`` in ``frame`` for a cue (the learned lexicon's prior)."""
    if lemma not in STANCE_OF:
        return False
    base = frame.split("/")[0]
    return base not in ("dobj",) and not base.startswith("prep") or lemma in OBJECT_VERBS


def stance_of(lemma: str) -> Stance:
    """Stance class of a cue lemma; unknown cues ("according to", ":") assert."""
    return STANCE_OF.get(lemma.lower(), "asserts")


def verb_group(verb: Token) -> SpacySpan:
    """The whole verb group of a cue: auxiliaries, negation and particles ("could not say")."""
    left = verb.i
    for child in verb.lefts:
        if child.dep_ in ("aux", "auxpass", "neg") and child.i >= left - 3:
            left = min(left, child.i)
    right = verb.i
    for child in verb.rights:
        if child.dep_ == "prt" and child.i == right + 1:
            right = child.i
    return verb.doc[left:right + 1]
