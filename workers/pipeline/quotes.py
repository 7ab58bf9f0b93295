"""Quotation spans: every common form of quotation mark, paired in one left-to-right scan.

Handles “ ” „ « » ‘ ’ " and the two-apostrophe ``''…''`` form. Neutral marks (" and '')
open after whitespace or an opening bracket and close otherwise. Single marks count only
when no double quote is open and they are not apostrophes ("Putin’s"). A quote still open
at a line break ends there; when the next paragraph opens with a quotation mark, the
quote continues (the newspaper convention for multi-paragraph quotes) and the new quote
is flagged ``continues_previous``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Two-character marks first so '' is not read as two apostrophes.
_MARK_RE = re.compile(r"''|``|[“”„«»\"‘’\n]")
_OPENERS = frozenset({"“", "„", "«", "``", "‘"})
_CLOSERS = frozenset({"”", "»", "’", '"', "''"})
_NEUTRAL = frozenset({'"', "''"})
_SINGLE = frozenset({"‘", "’"})
_TEXT_RE = re.compile(r"\S")


@dataclass(slots=True)
class Quote:
    """A quotation, marks included: ``text[start:end]``."""

    start: int
    end: int
    closed: bool
    continues_previous: bool = False


def _after_space(text: str, pos: int) -> bool:
    return pos == 0 or text[pos - 1].isspace() or text[pos - 1] in "([{—–-/:"


def _is_apostrophe(text: str, pos: int) -> bool:
    """‘ and ’ double as apostrophes: "Putin’s", "rock ’n’ roll", "‘90s"."""
    before = text[pos - 1] if pos else " "
    after = text[pos + 1] if pos + 1 < len(text) else " "
    return before.isalnum() and after.isalnum() or (text[pos] == "‘" and after.isdigit())


def find_quotes(text: str) -> list[Quote]:
    """All quotations of ``text`` in order of appearance, in time linear in its length."""
    quotes: list[Quote] = []
    open_at: int | None = None
    open_single = open_starts_line = False
    last_unclosed = False
    line_start = 0
    next_text = -1  # the first non-space character at or after some point up to line_start

    def blank_before(pos: int) -> bool:
        """Whether the current line holds only whitespace before ``pos`` (found once per stretch)."""
        nonlocal next_text
        if next_text < line_start:
            found = _TEXT_RE.search(text, line_start)
            next_text = found.start() if found else len(text)
        return next_text >= pos

    for m in _MARK_RE.finditer(text):
        pos, mark = m.start(), m.group()
        if mark == "\n":
            if open_at is not None:
                quotes.append(Quote(open_at, pos, closed=False,
                                    continues_previous=last_unclosed and open_starts_line))
                open_at, last_unclosed = None, True
            elif not blank_before(pos):
                last_unclosed = False
            line_start = pos + 1
            continue
        single = mark in _SINGLE
        if single and _is_apostrophe(text, pos):
            continue
        if open_at is None:
            if mark in _OPENERS or (mark in _NEUTRAL and _after_space(text, pos)):
                open_at, open_single = pos, single
                open_starts_line = blank_before(pos)
            continue
        if single != open_single:
            continue
        if mark in _CLOSERS:
            quotes.append(Quote(open_at, m.end(), closed=True,
                                continues_previous=last_unclosed and open_starts_line))
            open_at, last_unclosed = None, False
    if open_at is not None:
        quotes.append(Quote(open_at, len(text), closed=False))
    return [q for q in quotes if q.end - q.start > 2]
