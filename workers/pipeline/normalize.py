"""Same-length rewrites of the text shapes that cost the parser more than prose does.

spaCy strips prefixes and suffixes off a whitespace-free chunk one at a time, searching the
whole remaining chunk each time, so a chunk made of affixes costs the square of its length:
40,000 ``"`` took minutes, and so do runs of emoji or of ``'s``. And every later stage costs
time and memory per token, so a text far denser in tokens than prose ("a, a, a, ...", one
letter per line) costs several times as much as prose of its length. Three rewrites bound
both:

- a run of punctuation or symbols keeps its first few marks, the rest become spaces;
- a whitespace-free run longer than a word of any real text gets a space every
  ``MAX_WORD_CHARS`` characters;
- a stretch of about ``DENSITY_WINDOW`` characters holding more than
  ``MAX_TOKENS_PER_CHAR`` tokens per character (prose holds about 0.2, and no stretch of
  the dev set more than 0.35) becomes spaces ending in a line break: it holds no
  sentence to attribute.

Every rewrite keeps the length, so each offset in the rewritten copy is an offset into the
original; ordinary prose passes unchanged.
"""

from __future__ import annotations

import re

# Marks kept of a run of punctuation or symbols: closing runs such as ?’.’" stay as they are.
PUNCT_RUN_KEEP = 10
# Longest whitespace-free run left whole (URLs and hyphenated compounds are shorter).
MAX_WORD_CHARS = 100
# Stretches of about this many characters are checked for their density of tokens.
DENSITY_WINDOW = 1_000
# Tokens per character above which a stretch is not prose.
MAX_TOKENS_PER_CHAR = 0.4

_PUNCT_RUN_RE = re.compile(r"(?:[^\w\s]|_){%d,}" % (PUNCT_RUN_KEEP + 1))
_LONG_WORD_RE = re.compile(r"\S{%d,}" % (MAX_WORD_CHARS + 1))
# What spaCy's English tokenizer makes a token, near enough: words, marks, line breaks, wide gaps.
_TOKEN_RE = re.compile(r"\w+|[^\w\s]|\s*\n\s*|\s{2,}")
_WHITESPACE_RE = re.compile(r"\s")


def _blank_tail(match: re.Match[str]) -> str:
    run = match.group()
    return run[:PUNCT_RUN_KEEP] + " " * (len(run) - PUNCT_RUN_KEEP)


def _break_word(match: re.Match[str]) -> str:
    chars = list(match.group())
    chars[MAX_WORD_CHARS::MAX_WORD_CHARS + 1] = " " * len(range(MAX_WORD_CHARS, len(chars), MAX_WORD_CHARS + 1))
    return "".join(chars)


def _blank_dense(text: str) -> str:
    """``text`` with every over-dense stretch turned into spaces and a line break.

    Stretches are cut at whitespace; the last one takes the rest of the text, so no stretch
    is too short to judge. A text shorter than one stretch costs little and is left alone.
    """
    pieces: list[str] = []
    start = 0
    while start < len(text):
        gap = _WHITESPACE_RE.search(text, min(start + DENSITY_WINDOW, len(text)))
        end = gap.end() if gap and len(text) - gap.end() >= DENSITY_WINDOW else len(text)
        window = text[start:end]
        tokens = sum(1 for _ in _TOKEN_RE.finditer(window))
        if len(window) >= DENSITY_WINDOW and tokens > MAX_TOKENS_PER_CHAR * len(window):
            window = " " * (len(window) - 1) + "\n"
        pieces.append(window)
        start = end
    return "".join(pieces)


def neutralise(text: str) -> str:
    """``text`` rewritten so that the tokens it costs stay in proportion to prose; same length."""
    return _blank_dense(_LONG_WORD_RE.sub(_break_word, _PUNCT_RUN_RE.sub(_blank_tail, text)))
