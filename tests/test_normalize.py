"""Text shapes that cost the parser more than prose: rewritten in place, offsets kept exact.

No timing here (``bench/adversarial.py`` measures it): these tests assert the mechanism,
that the rewritten copy has the original's length, changes only what it must, and gives
the parser a bounded number of tokens and sentences.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings, strategies as st

from workers.pipeline import get_extractor
from workers.pipeline.model import MAX_SENTENCE_TOKENS
from workers.pipeline.normalize import DENSITY_WINDOW, MAX_WORD_CHARS, PUNCT_RUN_KEEP, neutralise
from workers.pipeline.parse import parse

SEED = (Path(__file__).resolve().parent.parent / "seeds" / "000_f811b88706461c54.txt").read_text(encoding="utf-8")

# Any characters, with runs of marks, long words and tiny lines made likely.
hostile = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.builds(lambda c, n: c * n, st.sampled_from(list('",.“‘«„\'-_!?😀') + ["'s", "a,", "a\n"]),
                  st.integers(1, 3_000)),
        st.builds(lambda n: "x" * n, st.integers(1, 400)),
    ),
    max_size=12,
).map("".join)

# Prose-like text: words of five letters or more, at most one mark after each.
prose_word = st.builds(
    lambda w, p: w + p,
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=5, max_size=12),
    st.sampled_from(["", "", ",", ".", "?", "’", "”", ";"]),
)
prose = st.lists(st.tuples(prose_word, st.sampled_from([" ", " ", " ", "\n", "\n\n"])), max_size=600).map(
    lambda pairs: "".join(w + s for w, s in pairs)
)


@given(hostile)
@settings(max_examples=200, deadline=None)
def test_the_rewrite_keeps_every_offset_and_only_blanks(text: str) -> None:
    out = neutralise(text)
    assert len(out) == len(text)
    assert all(a == b or b in " \n" for a, b in zip(text, out))


@given(hostile)
@settings(max_examples=200, deadline=None)
def test_the_rewrite_leaves_no_long_run_and_no_long_word(text: str) -> None:
    out = neutralise(text)
    assert max((len(w) for w in out.split()), default=0) <= MAX_WORD_CHARS
    marks = "".join(" " if c.isalnum() or c.isspace() else "m" for c in out if c != "_")
    assert max((len(run) for run in marks.split()), default=0) <= PUNCT_RUN_KEEP


@given(prose)
@settings(max_examples=200, deadline=None)
def test_prose_passes_unchanged(text: str) -> None:
    assert neutralise(text) == text


def test_runs_of_marks_reach_the_parser_as_a_few_tokens() -> None:
    nlp = get_extractor().nlp
    for run in ('"' * 40_000, "“‘«„" * 10_000, "😀" * 40_000, "a's" * 13_000):
        assert len(parse(nlp, run)) <= len(run) // MAX_WORD_CHARS + PUNCT_RUN_KEEP


def test_a_comma_storm_and_tiny_paragraphs_are_blanked_before_parsing() -> None:
    nlp = get_extractor().nlp
    for storm in ("a, " * 166_000, "a\n" * 38_000, "Yes.\n\n" * 38_000):
        assert len(parse(nlp, storm)) <= 2 * len(storm) // DENSITY_WINDOW


def test_no_sentence_runs_past_the_bound() -> None:
    """Just under the density bound, with no sentence end: cut into bounded sentences."""
    doc = parse(get_extractor().nlp, "abc, " * 2_000)
    assert len(doc) >= 4_000, "not blanked: this density is prose's own"
    assert max(len(sent) for sent in doc.sents) <= MAX_SENTENCE_TOKENS


def test_many_short_lines_each_start_a_sentence() -> None:
    doc = parse(get_extractor().nlp, "Yes sir\n" * 2_000)
    assert sum(1 for _ in doc.sents) == 2_000


def test_claims_after_a_blanked_run_keep_exact_offsets() -> None:
    """The article after 100,000 blanked characters gives its claims at the shifted offsets.

    (A chunk boundary may fall between its paragraphs, which can cost a claim or two, as in
    any long text.)
    """
    extractor = get_extractor()
    alone = {(c.content.start, c.content.end, c.content.text) for c in extractor.extract(SEED).claims}
    text = SEED + "\n" + '"' * 40_000 + "\n" + "a, " * 20_000 + "\n" + SEED
    claims = extractor.extract(text).claims
    for claim in claims:
        for span in (claim.content, claim.claimant, claim.cue):
            assert span is None or text[span.start:span.end] == span.text
        assert claim.sentence.start <= claim.content.start and claim.content.end <= claim.sentence.end
    shift = len(text) - len(SEED)
    after = {(c.content.start - shift, c.content.end - shift, c.content.text) for c in claims if c.content.start >= shift}
    assert len(after & alone) >= len(alone) - 3
