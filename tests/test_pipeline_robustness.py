"""The pipeline on hostile input: no crash, sane output, the language reported.

Time per document against length is measured by ``bench/scaling.py``, not here: a timed
unit test on a shared machine would measure the neighbours.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support.openapi_check import check_extraction
from workers.claims import Extraction, dump_extraction
from workers.pipeline import get_extractor

SEED = (Path(__file__).resolve().parent.parent / "seeds" / "000_f811b88706461c54.txt").read_text(encoding="utf-8")
ONE_MB = 1_000_000

GERMAN = ("Der Gouverneur der Region Belgorod, Wjatscheslaw Gladkow, kündigte am Dienstag an, dass rund "
          "9000 Kinder aus der Stadt und den umliegenden Dörfern in Sicherheit gebracht werden. „Die Lage "
          "bleibt angespannt“, sagte er der Nachrichtenagentur TASS.")
FRENCH = ("Le gouverneur de la région de Belgorod a annoncé mardi que quelque 9 000 enfants seraient évacués "
          "de la ville. « La situation reste très tendue », a-t-il déclaré à l'agence de presse TASS.")
RUSSIAN = ("Губернатор Белгородской области Вячеслав Гладков заявил во вторник, что около 9 000 детей будут "
           "эвакуированы из города. «Ситуация остаётся напряжённой», — сказал он агентству ТАСС.")
SPANISH = ("El gobernador de la región de Belgorod anunció el martes que unos 9.000 niños serán evacuados de "
           "la ciudad. «La situación sigue siendo tensa», dijo a la agencia de noticias TASS.")


def check(text: str) -> Extraction:
    """Extract, then hold the span invariants and the schema; return the extraction."""
    extraction = get_extractor().extract(text)
    assert isinstance(extraction.detected_language, str) and extraction.detected_language
    for claim in extraction.claims:
        assert 0 <= claim.sentence.start <= claim.sentence.end <= len(text)
        spans = [claim.content, *claim.time_expressions, *claim.quantities, *claim.entities]
        spans += [s for s in (claim.claimant, claim.cue, claim.reported_via) if s is not None]
        for span in spans:
            assert 0 <= span.start <= span.end <= len(text)
            assert span.text == text[span.start:span.end]
    check_extraction(dump_extraction(extraction))
    return extraction


@pytest.mark.parametrize("text", ["", " ", "   \n\t\r\n  \u00a0\u2028 ", "\x00\x01\x02\x7f", "\ufeff"])
def test_empty_and_blank_texts_give_no_claims_and_undetermined_language(text: str) -> None:
    extraction = check(text)
    assert extraction.claims == []
    assert extraction.detected_language == "und"


def test_the_seed_article_is_english_with_claims() -> None:
    extraction = check(SEED)
    assert extraction.detected_language == "en"
    assert len(extraction.claims) >= 10


@pytest.mark.parametrize(("text", "language"), [(GERMAN, "de"), (FRENCH, "fr"), (RUSSIAN, "ru"), (SPANISH, "es")])
def test_non_english_text_reports_its_language(text: str, language: str) -> None:
    assert check(text).detected_language == language


def test_no_sentence_punctuation() -> None:
    bare = re.sub(r"[.,:;!?“”\"‘’…]", "", SEED).replace("\n", " ")
    extraction = check(bare)
    assert extraction.detected_language == "en"
    assert any(c.cue is not None and c.cue.text in ("claimed", "said", "announced") for c in extraction.claims)


@pytest.mark.parametrize("mangle", [
    lambda t: t.replace("”", ""),           # quotes opened, never closed
    lambda t: t.replace("“", ""),           # quotes closed, never opened
    lambda t: "“" + t + " «",               # stray marks at both ends
    lambda t: t.replace("“", "''", 3),      # mixed styles
], ids=["no-closing", "no-opening", "stray", "mixed-styles"])
def test_unbalanced_quotes(mangle) -> None:
    text = mangle(SEED)
    extraction = check(text)
    assert len(extraction.claims) >= 5  # the indirect claims do not depend on quotes


def test_html_remnants() -> None:
    lines = SEED.splitlines()
    text = "<html><head><script>var a = \"x\" < 3;</script></head><body>\n" + "\n".join(
        f'<p class="story">{line}&nbsp;</p><!-- ad --><a href="https://x.example/?q=“">' for line in lines
    ) + "\n</body></html>"
    extraction = check(text)
    assert extraction.detected_language == "en"
    claimants = {c.claimant.resolved for c in extraction.claims if c.claimant is not None}
    assert "Vyacheslav Gladkov" in claimants
    assert not any("<" in c.claimant.text or ">" in c.claimant.text for c in extraction.claims if c.claimant)


def test_control_characters_and_odd_whitespace() -> None:
    noise = ["\x00", "\x07", "\x1b[31m", "\u200b", "\ufeff", "\r\n", "\u2028", "\x0c", "\u00ad", "\ud7ff"]
    words = SEED.split(" ")
    text = "".join(w + (noise[i % len(noise)] if i % 7 == 0 else " ") for i, w in enumerate(words))
    extraction = check(text)
    assert extraction.detected_language == "en"
    assert extraction.claims


def test_one_megabyte_document() -> None:
    """1 MB: a real article wrapped around a large scraped blob (an inline image) and filler.

    The blob is long unbroken tokens, which the parser handles cheaply, so this stays
    affordable while every text-wide pass (quote scan, chunking, sampling) sees 1 MB.
    """
    blob = "data:image/png;base64," + ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk" * 17_000)
    text = SEED + "\n<img src=\"" + blob + "\">\n" + SEED
    text += "\n" + "=" * (ONE_MB - len(text))
    assert len(text) >= ONE_MB
    extraction = check(text)
    assert extraction.detected_language == "en"
    one = len(check(SEED).claims)
    assert one <= len(extraction.claims) <= 2 * one + 2


def test_repeated_article_gives_proportionally_many_claims() -> None:
    """Chunked parsing must neither lose nor invent claims on a long text of whole articles."""
    one = len(check(SEED).claims)
    many = check("\n\n".join([SEED] * 8)).claims
    assert 8 * one - 2 <= len(many) <= 8 * one + 2
