"""Content spans: the words of a claim, shaped to the conventions fact-checkers expect.

A content span keeps its quotation marks and its complementizer ("that ..."), drops
edge punctuation outside quotes, and grows to the whole quotation when the parse
covers only part of one ("“One. Two,” he said." yields the full quote).
"""

from __future__ import annotations

from bisect import bisect_right

from spacy.tokens import Token

from workers.pipeline.candidates import CharSpan
from workers.pipeline.quotes import Quote

_EDGE = " \t\r\n,;:.—–-"
QUOTE_MARKS = "“”„«»\"‘’'`"


def subtree_span(token: Token, stop: set[int] | None = None) -> CharSpan:
    """Characters of ``token``'s subtree, cut before any token index in ``stop``."""
    left, right = token.left_edge.i, token.right_edge.i
    if stop:
        before = [i for i in stop if left <= i < token.i]
        after = [i for i in stop if token.i < i <= right]
        if before:
            left = max(before) + 1
        if after:
            right = min(after) - 1
    doc = token.doc
    return doc[left].idx, doc[right].idx + len(doc[right])


class QuoteIndex:
    """Finds the quotation around or across a character span in O(log n)."""

    def __init__(self, text: str, quotes: list[Quote]) -> None:
        self.text = text  # spaCy rebuilds Doc.text on every access: keep one copy
        self.quotes = quotes
        self._starts = [q.start for q in quotes]

    def at(self, pos: int) -> Quote | None:
        i = bisect_right(self._starts, pos) - 1
        if i >= 0 and self.quotes[i].start <= pos < self.quotes[i].end:
            return self.quotes[i]
        return None

    def ending_before(self, pos: int, within: int) -> Quote | None:
        """The last quotation that ends before ``pos``, by at most ``within`` characters."""
        i = bisect_right(self._starts, pos) - 1
        if i >= 0 and self.quotes[i].end > pos:
            i -= 1
        if i >= 0 and pos - self.quotes[i].end <= within:
            return self.quotes[i]
        return None

    def within(self, start: int, end: int) -> list[Quote]:
        i = max(0, bisect_right(self._starts, start) - 1)
        found = []
        while i < len(self.quotes) and self.quotes[i].start < end:
            q = self.quotes[i]
            if q.end > start:
                found.append(q)
            i += 1
        return found


def shape(text: str, span: CharSpan, quotes: QuoteIndex) -> CharSpan | None:
    """Trim edge punctuation, then widen to whole quotations the span starts or ends inside."""
    start, end = span
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    if start >= end:
        return None
    first = quotes.at(start) or quotes.at(max(start - 1, 0))
    if first is not None and first.start < start <= first.end:
        start = first.start
    last = quotes.at(end - 1)
    if last is not None and end < last.end:
        end = last.end
    elif end < len(text) and text[end] in QUOTE_MARKS and quotes.at(end):
        end = quotes.at(end).end
    while end > start and text[end - 1] in " \t\r\n":
        end -= 1
    return start, end


def quote_kind(text: str, parts: list[CharSpan], quotes: QuoteIndex) -> str:
    """direct when every part is one whole quotation, mixed when quotes occur, else indirect."""
    inside = [quotes.within(s, e) for s, e in parts]
    if all(len(q) == 1 and q[0].start <= s + 1 and q[0].end >= e - 2 for q, (s, e) in zip(inside, parts)):
        return "direct"
    if any(inside):
        return "mixed"
    return "indirect"
