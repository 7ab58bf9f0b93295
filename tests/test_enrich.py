"""Each enrichment on real parsed sentences: what a claim carries for fact-checkers.

Claims are built by hand around known content spans so that these tests pin down the
enrichments alone, whatever the extractor finds. The seed article was published on
Wednesday 20 March 2024 (Putin's re-election was on the 17th, "on Tuesday" is the 19th).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from spacy.tokens import Doc

from support.seeds import SEED_TEXT
from workers.claims import Claim, Claimant, Content, Cue, Sentence, dump_extraction, Extraction
from workers.pipeline.enrich import enrich
from workers.pipeline.enrich.checkworthiness import WEIGHTS, feature_values
from workers.pipeline.enrich.entities import NAMED_LABELS
from workers.pipeline.enrich.quantities import number_value
from workers.pipeline.enrich.times import normalise
from workers.pipeline.model import load_nlp
from workers.pipeline.parse import parse

PUBLISHED = datetime(2024, 3, 20, 9, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def seed_doc() -> Doc:
    return parse(load_nlp(), SEED_TEXT)


def parsed(text: str) -> Doc:
    return parse(load_nlp(), text)


def claim_at(text: str, content: str, *, after: str = "", claimant: str | None = None,
             cue: str | None = None, stance: str = "asserts") -> Claim:
    """A claim whose content is the first ``content`` after ``after``, in that line of text."""
    start = text.index(content, text.index(after) if after else 0)
    end = start + len(content)
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    who = None
    if claimant is not None:
        s = text.index(claimant, line_start)
        who = Claimant(claimant, s, s + len(claimant), resolved=claimant)
    how = None
    if cue is not None:
        s = text.index(cue, line_start)
        how = Cue(cue, s, s + len(cue), lemma=cue, stance=stance)
    return Claim(id="t", claimant=who, cue=how, content=Content(content, start, end), type="indirect",
                 sentence=Sentence(line_start, line_end))


def enriched(doc: Doc, claim: Claim, published_at: datetime | None = PUBLISHED) -> Claim:
    enrich(claim, doc, published_at)
    return claim


def assert_spans_exact(text: str, claim: Claim) -> None:
    spans = [*claim.time_expressions, *claim.quantities, *claim.entities]
    if claim.reported_via is not None:
        spans.append(claim.reported_via)
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
        assert text[span.start:span.end] == span.text


# --- time expressions -------------------------------------------------------------------

def test_relative_week_and_weekday_normalised_against_publication(seed_doc: Doc) -> None:
    claim = enriched(seed_doc, claim_at(SEED_TEXT, "a total of 16 people have been killed and 98 wounded this week"))
    assert [(t.text, t.value) for t in claim.time_expressions] == [("this week", "2024-03-18")]

    claim = enriched(seed_doc, claim_at(SEED_TEXT, "the situation remained dire on Tuesday"))
    assert [(t.text, t.value) for t in claim.time_expressions] == [("Tuesday", "2024-03-19")]
    assert_spans_exact(SEED_TEXT, claim)


def test_month_day_in_publication_year_and_only_inside_content(seed_doc: Doc) -> None:
    claim = enriched(seed_doc, claim_at(SEED_TEXT, "on March 17 shared pictures on messaging platform Telegram"))
    assert [(t.text, t.value) for t in claim.time_expressions] == [("March 17", "2024-03-17")]
    # "announced on March 19 that ...": the date dates the announcement, not the content
    claim = enriched(seed_doc, claim_at(SEED_TEXT, "that some 9,000 children will be evacuated", after="Vyacheslav"))
    assert claim.time_expressions == []


def test_without_publication_date_relative_times_have_no_value(seed_doc: Doc) -> None:
    claim = enriched(seed_doc, claim_at(SEED_TEXT, "the situation remained dire on Tuesday"), published_at=None)
    assert [(t.text, t.value) for t in claim.time_expressions] == [("Tuesday", None)]


@pytest.mark.parametrize(("expression", "tense", "value"), [
    ("Wednesday", "past", "2024-03-20"),        # the publication day itself
    ("Friday", "past", "2024-03-15"),
    ("Friday", "future", "2024-03-22"),         # "will meet on Friday"
    ("the weekend", "past", "2024-03-16"),
    ("last week", "past", "2024-03-11"),        # a week is given as its Monday
    ("next week", "present", "2024-03-25"),
    ("yesterday", "past", "2024-03-19"),
    ("last month", "past", "2024-02"),
    ("early March", "past", "2024-03"),
    ("December 25", "present", "2024-12-25"),   # a bare month-day is in the publication year...
    ("December 25", "past", "2023-12-25"),      # ...unless the claim looks back at it
    ("May", "past", "2023-05"),
    ("Sept. 11, 2001", "past", "2001-09-11"),
    ("2015", "past", "2015"),
    ("two years ago", "past", "2022"),
    ("six years", "past", None),                # a duration, not a date
    ("Just days", "past", None),
    ("10 p.m.", "past", None),                  # a clock time, day unknown
    ("the 1990s", "past", None),
    ("the 8th", "past", None),
])
def test_normalise(expression: str, tense: str, value: str | None) -> None:
    assert normalise(expression, date(2024, 3, 20), tense) == value


def test_normalise_without_publication_date_keeps_only_absolute_dates() -> None:
    assert normalise("March 2015", None, "past") == "2015-03"
    assert normalise("Nov. 8, 2016", None, "past") == "2016-11-08"
    assert normalise("March 19", None, "past") is None
    assert normalise("last year", None, "past") is None


@pytest.mark.parametrize("published", [date(1, 1, 1), date(9999, 12, 31)])
def test_normalise_at_the_edges_of_the_calendar_gives_none_not_an_error(published: date) -> None:
    for expression in ("Friday", "the weekend", "last week", "next year", "yesterday", "December 25"):
        for tense in ("past", "present", "future"):
            value = normalise(expression, published, tense)
            assert value is None or value[:4].isdigit()


def test_tense_of_the_claim_picks_past_or_future_weekday() -> None:
    text = "The minister said the talks will resume on Friday."
    claim = enriched(parsed(text), claim_at(text, "the talks will resume on Friday"))
    assert [(t.text, t.value) for t in claim.time_expressions] == [("Friday", "2024-03-22")]


# --- quantities -------------------------------------------------------------------------

def test_quantities_with_value_and_counted_noun(seed_doc: Doc) -> None:
    claim = enriched(seed_doc, claim_at(SEED_TEXT, "some 9,000 children will be evacuated from the city of Belgorod"))
    assert [(q.text, q.value, q.unit) for q in claim.quantities] == [("some 9,000 children", 9000.0, "children")]

    claim = enriched(seed_doc, claim_at(SEED_TEXT, "a total of 16 people have been killed and 98 wounded this week"))
    assert [(q.text, q.value, q.unit) for q in claim.quantities] == [
        ("16 people", 16.0, "people"), ("98 wounded", 98.0, "wounded")]

    claim = enriched(seed_doc, claim_at(SEED_TEXT, "more than 150 had been forced to flee following intensified shelling"))
    assert [(q.text, q.value) for q in claim.quantities] == [("more than 150", 150.0)]

    claim = enriched(seed_doc, claim_at(SEED_TEXT, "he secured at least six more years in power"))
    assert [(q.text, q.value, q.unit) for q in claim.quantities] == [("at least six more years", 6.0, "years")]

    claim = enriched(seed_doc, claim_at(SEED_TEXT, "its forces shot down what it described as nine Ukrainian shells"))
    assert [(q.text, q.value, q.unit) for q in claim.quantities] == [("nine Ukrainian shells", 9.0, "shells")]
    assert_spans_exact(SEED_TEXT, claim)


def test_money_percent_and_participle() -> None:
    text = ("The agency said 16 people killed in the strike were civilians, that revenue rose 40% "
            "to $1.5 million and that thousands of refugees crossed.")
    claim = enriched(parsed(text), claim_at(text, text[text.index("16"):-1]))
    assert [(q.text, q.value, q.unit) for q in claim.quantities] == [
        ("16 people killed", 16.0, "people"),
        ("40%", 40.0, "percent"),
        ("$1.5 million", 1_500_000.0, "USD"),
        ("thousands of refugees", None, "refugees"),  # vague: no value
    ]
    assert_spans_exact(text, claim)


def test_years_are_not_quantities() -> None:
    text = "He said turnout in 2016 was lower than in 2012."
    claim = enriched(parsed(text), claim_at(text, "turnout in 2016 was lower than in 2012"))
    assert claim.quantities == []


def test_number_words() -> None:
    text = "two dozen eggs, twenty-one states, a million votes, 1,500.5 units, hundreds"
    doc = parsed(text)

    def value(phrase: str) -> float | None:
        start = text.index(phrase)
        return number_value(doc.char_span(start, start + len(phrase)))

    assert value("two dozen") == 24.0
    assert value("twenty-one") == 21.0
    assert value("a million") == 1_000_000.0
    assert value("1,500.5") == 1500.5
    assert value("hundreds") is None


# --- named entities ---------------------------------------------------------------------

def test_entities_inside_content_only(seed_doc: Doc) -> None:
    claim = enriched(seed_doc, claim_at(SEED_TEXT, "that some 9,000 children will be evacuated from the city of Belgorod",
                                        claimant="Vyacheslav Gladkov", cue="announced"))
    texts = [e.text for e in claim.entities]
    assert "Belgorod" in texts
    assert "Vyacheslav Gladkov" not in texts and "Ukraine" not in texts  # outside the content
    assert all(e.label in NAMED_LABELS for e in claim.entities)  # no CARDINAL, no DATE
    assert_spans_exact(SEED_TEXT, claim)


def test_entities_of_the_zhuravlevka_claim(seed_doc: Doc) -> None:
    claim = enriched(seed_doc, claim_at(
        SEED_TEXT, "to be operating in the village of Zhuravlevka and “regularly leaving Putin’s troops"))
    assert {(e.text, e.label) for e in claim.entities} >= {("Zhuravlevka", "GPE"), ("Putin", "PERSON")}


# --- content split in parts -------------------------------------------------------------

SPLIT = "“Sixteen people were killed in Belgorod,” Gladkov told Reuters on Tuesday. “Another 98 were wounded in Kursk.”"


def split_claim() -> Claim:
    first = (0, SPLIT.index("” Gladkov") + 1)
    second = (SPLIT.index("“Another"), len(SPLIT))
    s = SPLIT.index("Gladkov")
    c = SPLIT.index("told")
    return Claim(id="t", claimant=Claimant("Gladkov", s, s + 7, resolved="Vyacheslav Gladkov"),
                 cue=Cue("told", c, c + 4, lemma="tell"),
                 content=Content(SPLIT, 0, len(SPLIT), parts=[first, second]), type="direct",
                 sentence=Sentence(0, len(SPLIT)))


def test_parts_only_are_searched_and_the_gap_gives_the_outlet() -> None:
    claim = enriched(parsed(SPLIT), split_claim())
    entity_texts = [e.text for e in claim.entities]
    assert "Belgorod" in entity_texts
    assert "Gladkov" not in entity_texts and "Reuters" not in entity_texts
    assert claim.time_expressions == []  # "on Tuesday" is in the attribution, between the parts
    assert [q.value for q in claim.quantities] == [16.0, 98.0]
    assert claim.reported_via is not None and claim.reported_via.text == "Reuters"
    assert_spans_exact(SPLIT, claim)


# --- outlets ----------------------------------------------------------------------------

def test_outlet_of_the_tass_quote(seed_doc: Doc) -> None:
    claim = enriched(seed_doc, claim_at(SEED_TEXT, "“All attempts to break into our territory", after="TASS",
                                        claimant="he", cue="claimed"))
    assert claim.reported_via is not None
    assert claim.reported_via.text == "state news agency TASS"
    assert_spans_exact(SEED_TEXT, claim)


@pytest.mark.parametrize(("sentence", "content", "outlet"), [
    ("Putin told Reuters that the raids failed.", "that the raids failed", "Reuters"),
    ("According to a report by the BBC, officials said the raids failed.", "the raids failed", "the BBC"),
    ("In an interview with CNN, the senator said the economy was growing.", "the economy was growing", "CNN"),
    ("The raids failed, the governor said, state media reported.", "The raids failed", "state media"),
    ("The raids failed, the governor said on Telegram.", "The raids failed", "Telegram"),
    ("“We will win,” Trump told The Washington Post on Friday.", "“We will win,”", "The Washington Post"),
    ("Putin told reporters at a news conference that the raids failed.", "that the raids failed", None),
    ("Trump told Cruz that he would win.", "that he would win", None),
    ("The governor said in a statement that the bridge collapsed.", "that the bridge collapsed", None),
    ("The governor said that Reuters reported the bridge collapsed.", "that Reuters reported the bridge collapsed", None),
])
def test_outlet_constructions(sentence: str, content: str, outlet: str | None) -> None:
    claim = enriched(parsed(sentence), claim_at(sentence, content))
    assert (claim.reported_via.text if claim.reported_via else None) == outlet


def test_claimant_is_not_its_own_outlet() -> None:
    text = "The New York Times reported that the talks collapsed."
    claim = enriched(parsed(text), claim_at(text, "that the talks collapsed", claimant="The New York Times"))
    assert claim.reported_via is None


# --- check-worthiness -------------------------------------------------------------------

def test_checkworthiness_ranks_facts_above_hedged_opinion(seed_doc: Doc) -> None:
    fact = enriched(seed_doc, claim_at(SEED_TEXT, "a total of 16 people have been killed and 98 wounded this week",
                                       claimant="Gladkov", cue="claimed", stance="claims"))
    shells = enriched(seed_doc, claim_at(
        SEED_TEXT, "its forces shot down what it described as nine Ukrainian shells over Belgorod on Tuesday alone"))
    hedged = enriched(seed_doc, claim_at(SEED_TEXT, "the situation remained dire on Tuesday",
                                         claimant="Yuriy Zarko", cue="suggested", stance="suggests"))
    opinion = enriched(seed_doc, claim_at(SEED_TEXT, "the raids were a failure", after="Despite"))
    for claim in (fact, shells, hedged, opinion):
        assert 0.0 <= claim.checkworthiness <= 1.0
    assert min(fact.checkworthiness, shells.checkworthiness) > 0.8
    assert max(hedged.checkworthiness, opinion.checkworthiness) < 0.3
    assert min(fact.checkworthiness, shells.checkworthiness) > max(hedged.checkworthiness, opinion.checkworthiness)


def test_checkworthiness_features_are_the_documented_ones() -> None:
    text = "He said taxes may possibly rise, which would be a disgrace?"
    claim = enriched(parsed(text), claim_at(text, "taxes may possibly rise, which would be a disgrace?"))
    features = feature_values(parsed(text), claim, [(claim.content.start, claim.content.end)])
    assert set(features) == set(WEIGHTS)
    assert features["hedge"] == 1.0 and features["opinion"] == 1.0 and features["question"] == 1.0
    assert features["number"] == 0.0 and features["date"] == 0.0
    assert claim.checkworthiness < 0.05

    text = "She said the plant will close next year."
    claim = enriched(parsed(text), claim_at(text, "the plant will close next year"))
    assert feature_values(parsed(text), claim, [(claim.content.start, claim.content.end)])["prediction"] == 1.0


# --- the whole claim --------------------------------------------------------------------

def test_enriched_claim_serialises(seed_doc: Doc) -> None:
    claim = enriched(seed_doc, claim_at(SEED_TEXT, "some 9,000 children will be evacuated from the city of Belgorod"))
    dumped = dump_extraction(Extraction(detected_language="en", extractor_version="test", claims=[claim]))
    assert dumped["claims"][0]["quantities"][0] == {
        "text": "some 9,000 children", "start": claim.quantities[0].start, "end": claim.quantities[0].end,
        "value": 9000.0, "unit": "children"}


def test_empty_content_is_harmless(seed_doc: Doc) -> None:
    claim = claim_at(SEED_TEXT, "Putin")
    claim.content = Content("", 10, 10)
    enrich(claim, seed_doc, PUBLISHED)
    assert claim.time_expressions == claim.quantities == claim.entities == []
    assert claim.reported_via is None
    assert 0.0 <= claim.checkworthiness <= 1.0
