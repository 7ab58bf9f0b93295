"""Attribution patterns the rules must get right, each on a short text through the whole extractor."""

from __future__ import annotations

import pytest

from workers.claims import Claim
from workers.pipeline import get_extractor
from workers.pipeline.quotes import find_quotes
from workers.pipeline.sources import subject_of


def claims_of(text: str) -> list[Claim]:
    return get_extractor().extract(text).claims


def only_claim(text: str) -> Claim:
    claims = claims_of(text)
    assert len(claims) == 1, [c.content.text for c in claims]
    return claims[0]


def test_a_quote_continued_in_the_next_sentence_is_one_claim_with_parts() -> None:
    text = '"Politics is a tough game," he said. "That\'s the way it is, Nicole."'
    claim = only_claim(text)
    assert [text[s:e] for s, e in claim.content.parts] == ['"Politics is a tough game,"', '"That\'s the way it is, Nicole."']
    assert claim.claimant is not None and claim.claimant.text == "he"
    assert claim.type == "direct"


def test_a_quote_continued_in_the_next_paragraph_joins_the_claim() -> None:
    text = "“I’m in disbelief,” he said.\n\n“Don’t wait until the election to move here. Start now, and bring friends.”"
    claim = only_claim(text)
    assert len(claim.content.parts) == 2
    assert claim.content.parts[1] == (text.index("“Don’t"), len(text))


@pytest.mark.parametrize("text", [
    "“This guy lost four years ago,” he said, “in like a landslide.”",
    "''I like this Washington more than the other Washington,'' he said. ''More friendly people.''",
])
def test_quotes_on_both_sides_of_one_cue_are_one_claim_in_two_parts(text: str) -> None:
    claim = only_claim(text)
    assert [text[s:e] for s, e in claim.content.parts] == [text[q.start:q.end] for q in find_quotes(text)]
    assert claim.claimant is not None and claim.claimant.text == "he"
    assert claim.type == "direct"


def test_a_quote_and_an_indirect_content_of_one_cue_stay_two_claims() -> None:
    text = "Clinton slammed the proposal as “reprehensible, prejudiced and divisive.”"
    claims = claims_of(text)
    assert [c.content.text for c in claims] == ["the proposal", "“reprehensible, prejudiced and divisive.”"]
    assert all(not c.content.parts for c in claims)


def test_a_quote_with_a_speaker_of_its_own_is_a_claim_of_its_own() -> None:
    text = '"The plan will work," he said. "The plan is a disaster," the senator replied.'
    claims = claims_of(text)
    assert [c.claimant.text for c in claims if c.claimant] == ["he", "the senator"]
    assert all(not c.content.parts for c in claims)


def test_a_scare_quote_in_running_prose_does_not_continue_a_quote() -> None:
    text = '"We will win the state," he said. Critics called the promise "a fantasy" within hours.'
    first = claims_of(text)[0]
    assert first.content.text == '"We will win the state,"' and not first.content.parts


def test_the_speaker_between_quote_and_cue_is_not_the_quotes_first_word() -> None:
    claim = only_claim("“We were tremendously wrong to not have confronted him,” Ramos, 58, told AFP on Monday.")
    assert claim.claimant is not None and claim.claimant.text.startswith("Ramos")
    assert claim.cue is not None and claim.cue.lemma == "tell"


def test_the_speaker_after_an_inverted_cue_is_found() -> None:
    claims = claims_of('"I am not going to say it is a mistake," said retired neurosurgeon Ben Carson, asked about it.')
    claim = next(c for c in claims if c.cue is not None and c.cue.lemma == "say")
    assert claim.content.text == '"I am not going to say it is a mistake,"'
    assert claim.claimant is not None and claim.claimant.text == "retired neurosurgeon Ben Carson"


def test_a_timestamp_line_is_not_the_next_paragraphs_subject() -> None:
    text = "2:00 p.m.\n\nA court document filed Thursday says that the campaign manager will not be prosecuted."
    claim = only_claim(text)
    assert claim.claimant is not None and claim.claimant.text.startswith("A court document")


@pytest.mark.parametrize("verb", ["appears", "seems"])
def test_seem_and_appear_name_no_claimant(verb: str) -> None:
    claims = claims_of(f"Trump {verb} to be ignorant of the differences between the primary and the general election.")
    assert all(c.claimant is None for c in claims)


def test_a_cue_inside_a_quotation_is_the_quoted_speakers_wording() -> None:
    text = "“I can say with confidence that she is the most qualified candidate in history,” Obama said."
    claim = only_claim(text)
    assert claim.claimant is not None and claim.claimant.text == "Obama"
    assert claim.content.text.startswith("“I can say")


def test_a_cue_set_off_by_commas_splits_its_content_in_two_parts() -> None:
    text = "Though that transition was relatively seamless, he said, replacing Clinton would be much more acrimonious."
    claim = only_claim(text)
    assert [text[s:e] for s, e in claim.content.parts] == [
        "Though that transition was relatively seamless",
        "replacing Clinton would be much more acrimonious",
    ]
    assert (claim.claimant.text, claim.cue.text) == ("he", "said")


def test_a_participle_after_a_parenthetical_cue_is_a_claim_of_its_own() -> None:
    text = "The bill is dead, Smith said, adding that he would vote against it anyway."
    claims = claims_of(text)
    assert [(c.cue.text, c.content.text) for c in claims] == [
        ("said", "The bill is dead"),
        ("adding", "that he would vote against it anyway"),
    ]


@pytest.mark.parametrize(
    ("text", "content"),
    [
        ("Clinton accused Sanders of being inactive on reform.", "Sanders of being inactive on reform"),
        ("She described the plan as a disaster on Tuesday.", "the plan as a disaster"),
        ('He called the report a "boldfaced lie."', 'the report a "boldfaced lie."'),
    ],
)
def test_an_object_cue_keeps_the_phrase_that_completes_it(text: str, content: str) -> None:
    assert only_claim(text).content.text == content


def test_a_relative_clause_closing_the_content_is_the_writers_aside() -> None:
    claim = only_claim("He said it would be Trump, who has a large delegate lead over Ted Cruz.")
    assert claim.content.text == "it would be Trump"


def test_a_parenthetical_cue_may_carry_its_own_modifiers() -> None:
    text = "These employees, Stumpf explained earlier in the hearing, were well paid."
    claim = only_claim(text)
    assert [text[s:e] for s, e in claim.content.parts] == ["These employees", "were well paid"]
    assert claim.cue.text == "explained"


def test_a_wire_dateline_is_never_the_speaker() -> None:
    text = ("Budget plan draws fire.\n\nDENVER, March 3 (UPI) — Former Treasury Secretary Janet Morrow told "
            "reporters on Monday that the governor's budget would leave the state short of money.")
    claims = [c for c in claims_of(text) if c.cue is not None and c.cue.lemma == "tell"]
    assert len(claims) == 1
    assert claims[0].claimant is not None and claims[0].claimant.text == "Former Treasury Secretary Janet Morrow"


def test_the_noun_an_infinitive_hangs_from_is_not_its_speaker_but_a_participles_may_be() -> None:
    nlp = get_extractor().nlp
    for text, verb, subject in [("The governor made a third attempt to deflect the criticism.", "deflect", None),
                                ("The candidates have expansive plans to address climate change.", "address", None),
                                ("A statement calling for calm came late.", "calling", "statement")]:
        found = subject_of(next(t for t in nlp(text) if t.text == verb))
        assert (found.text if found is not None else None) == subject


def test_a_participles_noun_that_is_an_object_speaks_for_the_subject_of_its_verb() -> None:
    nlp = get_extractor().nlp
    for text, verb, subject in [("She released a statement calling for calm.", "calling", "She"),
                                ("The group ran ads attacking the governor.", "attacking", "group"),
                                ("The tabloid ran a cover saying the mayor must go.", "saying", "tabloid")]:
        found = subject_of(next(t for t in nlp(text) if t.text == verb))
        assert found is not None and found.text == subject
