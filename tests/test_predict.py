"""Claims in the common attribution format of the evaluation data."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from workers.claims import Claim, Claimant, Content, Cue, Sentence, dump_extraction
from workers.pipeline import get_extractor
from workers.predict import attribution, published_at

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


def test_the_publication_date_of_a_document_is_taken_as_the_service_takes_published_at() -> None:
    assert published_at({"meta": {"publication_date": "2015-11-18"}}) == datetime(2015, 11, 18, tzinfo=timezone.utc)
    assert published_at({"meta": {"publication_date": "2015-11-18T10:00:00+02:00"}}).utcoffset() == timedelta(hours=2)
    assert published_at({"id": "x"}) is None


def test_many_articles_anchor_relative_dates_as_one_article_does() -> None:
    """The evaluation's batch path and the service's single path give the same claims, dates included."""
    text = "The minister said that taxes would rise on Tuesday. The mayor said that roads would close next Friday."
    when = datetime(2024, 3, 21, 9, tzinfo=timezone.utc)
    extractor = get_extractor()
    batch = list(extractor.extract_many([text, text], [when, None]))
    assert dump_extraction(batch[0]) == dump_extraction(extractor.extract(text, when))
    assert dump_extraction(batch[1]) == dump_extraction(extractor.extract(text))
    anchored = [t["value"] for c in dump_extraction(batch[0])["claims"] for t in c["time_expressions"]]
    assert anchored and all(anchored), "relative dates resolved against the publication time"
