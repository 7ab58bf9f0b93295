"""Claims in the common attribution format of the evaluation data."""

from __future__ import annotations

from workers.claims import Claim, Claimant, Content, Cue, Sentence
from workers.predict import attribution

TEXT = '"We won," she said. "Clearly."'


def claim(claimant: Claimant | None, parts: list[tuple[int, int]]) -> Claim:
    return Claim(
        id="c1",
        claimant=claimant,
        cue=Cue("said", 14, 18, lemma="say"),
        content=Content(TEXT[0:30], 0, 30, parts=parts),
        type="direct",
        sentence=Sentence(0, 30),
    )


def test_a_split_quote_keeps_its_parts_and_the_resolved_claimant() -> None:
    result = attribution(claim(Claimant("she", 9, 12, resolved="Ann Lee", kind="pronoun"), [(0, 9), (20, 30)]))
    assert result == {
        "source": {"start": 9, "end": 12, "text": "she"},
        "cue": {"start": 14, "end": 18, "text": "said"},
        "content": {"start": 0, "end": 30, "text": TEXT, "parts": [[0, 9], [20, 30]]},
        "type": "direct",
        "source_resolved": "Ann Lee",
    }


def test_no_claimant_is_a_null_source_and_a_whole_span_has_no_parts() -> None:
    result = attribution(claim(None, []))
    assert result["source"] is None and "source_resolved" not in result
    assert "parts" not in result["content"]
