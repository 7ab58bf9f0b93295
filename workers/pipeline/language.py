"""The language of an article, so a client can tell why a non-English text has no claims.

py3langid (a naive Bayes model over byte n-grams) classifies a bounded sample: a few
windows spread over the text, with markup and entities stripped, so a 1 MB article costs
no more than a short one. Texts with too few letters, or where the model is unsure, are
"und" (ISO 639-2 for undetermined); the answer is otherwise an ISO 639-1 code.
"""

from __future__ import annotations

import re
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

UNDETERMINED = "und"
MIN_CONFIDENCE = 0.5
MIN_LETTERS = 3
SAMPLE_WINDOWS = 3
WINDOW_CHARS = 2_000
_MARKUP = re.compile(r"<[^>]{0,200}>|&#?\w{1,10};|https?://\S+")


@lru_cache(maxsize=1)
def load_identifier() -> LanguageIdentifier:
    """The language model, loaded once per process (about a second, ~80 MB); call before forking."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def sample(text: str) -> str:
    """Up to ``SAMPLE_WINDOWS`` windows of the text, evenly spread, markup removed."""
    if len(text) <= SAMPLE_WINDOWS * WINDOW_CHARS:
        picked = text
    else:
        step = (len(text) - WINDOW_CHARS) // (SAMPLE_WINDOWS - 1)
        picked = "\n".join(text[i * step:i * step + WINDOW_CHARS] for i in range(SAMPLE_WINDOWS))
    return " ".join(_MARKUP.sub(" ", picked).split())


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language, or "und" when empty or undecidable."""
    probe = sample(text)
    if sum(ch.isalpha() for ch in probe) < MIN_LETTERS:
        return UNDETERMINED
    code, confidence = load_identifier().classify(probe)
    if confidence < MIN_CONFIDENCE or len(code) != 2:
        return UNDETERMINED
    return code
