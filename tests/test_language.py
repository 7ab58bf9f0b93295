"""Language detection on a bounded sample of the text."""

from __future__ import annotations

import pytest

from support.seeds import SEED_TEXT
from workers.pipeline.language import SAMPLE_WINDOWS, WINDOW_CHARS, detect_language, sample



@pytest.mark.parametrize(("text", "code"), [
    (SEED_TEXT, "en"),
    ("Die Regierung hat am Dienstag angekündigt, dass die Steuern im nächsten Jahr steigen werden.", "de"),
    ("Le président a déclaré mardi que la guerre était terminée depuis longtemps.", "fr"),
    ("El presidente dijo el martes que la guerra había terminado hace mucho tiempo.", "es"),
    ("Президент заявил во вторник, что война давно окончена.", "ru"),
    ("日本の首相は火曜日に、戦争は終わったと述べた。", "ja"),
])
def test_languages(text: str, code: str) -> None:
    assert detect_language(text) == code


@pytest.mark.parametrize("text", ["", "   \n\t", "\x00\x01\x1b", "12,345 678.9", "<div><br/>&nbsp;</div>", "ok"])
def test_undecidable_is_und(text: str) -> None:
    assert detect_language(text) == "und"


def test_markup_does_not_decide() -> None:
    french = "Le gouvernement a annoncé mardi que les impôts augmenteront l'année prochaine."
    html = '<div class="article-body" data-track="true"><p>' + french + "</p></div>" * 20
    assert detect_language(html) == "fr"


def test_long_text_is_sampled_from_beginning_middle_and_end() -> None:
    german = "Die Regierung hat am Dienstag angekündigt, dass die Steuern steigen werden. "
    text = SEED_TEXT * 200 + german * 2000 + SEED_TEXT * 200
    probe = sample(text)
    assert len(probe) <= SAMPLE_WINDOWS * WINDOW_CHARS + SAMPLE_WINDOWS
    assert "Regierung" in probe and "Putin" in probe
    assert detect_language(SEED_TEXT * 400) == "en"
