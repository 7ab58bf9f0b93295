"""Attribution candidates: what the rules propose, before claims are built from them.

Rules work on tokens; a candidate keeps character spans plus the tokens later stages
need (the source head for coreference). :func:`outermost` keeps only outermost
attributions, the convention of news attribution corpora: "X said Y claimed Z" is one
claim by X.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from spacy.tokens import Token

CharSpan = tuple[int, int]


@dataclass(slots=True)
class Candidate:
    """One proposed attribution; ``parts`` are the content pieces in text order."""

    parts: list[CharSpan]
    cue: CharSpan | None
    cue_lemma: str
    source: CharSpan | None
    source_head: Token | None
    sentence: CharSpan

    @property
    def start(self) -> int:
        return self.parts[0][0]

    @property
    def end(self) -> int:
        return self.parts[-1][1]


class DisjointSpans:
    """Sorted, non-overlapping character spans (the output of :func:`outermost`), searched by bisection."""

    def __init__(self, spans: list[CharSpan]) -> None:
        self.spans = sorted(spans)
        self._starts = [start for start, _ in self.spans]
        self._ends = [end for _, end in self.spans]

    def covers(self, pos: int) -> bool:
        i = bisect_right(self._starts, pos) - 1
        return i >= 0 and pos < self.spans[i][1]

    def count_ending_by(self, pos: int) -> int:
        """How many spans end at or before ``pos`` (they come first in the order)."""
        return bisect_right(self._ends, pos)


def _overlap(a: CharSpan, b: CharSpan) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _nested(candidates: list[Candidate]) -> set[int]:
    """Indices of candidates whose cue lies inside a part of another candidate.

    Parts are sorted by start with a running maximum of their ends, so the search for
    parts around a cue walks back only while some earlier part still reaches the cue:
    near-linear time on long documents, where comparing all pairs was quadratic.
    """
    parts = sorted((start, end, owner) for owner, c in enumerate(candidates) for start, end in c.parts)
    starts = [p[0] for p in parts]
    reach: list[int] = []
    for _, end, _ in parts:
        reach.append(max(end, reach[-1]) if reach else end)
    nested = set()
    for index, cand in enumerate(candidates):
        if cand.cue is None:
            continue
        cue_start, cue_end = cand.cue
        i = bisect_right(starts, cue_start) - 1
        while i >= 0 and reach[i] >= cue_end:
            start, end, owner = parts[i]
            if owner != index and start <= cue_start and cue_end <= end:
                nested.add(index)
                break
            i -= 1
    return nested


def outermost(candidates: list[Candidate]) -> list[Candidate]:
    """Drop candidates nested in another's content and, of overlapping contents, keep the longer."""
    nested = _nested(candidates)
    kept = [c for i, c in enumerate(candidates) if i not in nested]
    kept.sort(key=lambda c: (c.start, -c.end))
    result: list[Candidate] = []
    for cand in kept:
        # Kept spans are disjoint and sorted by start, so only the last can overlap this one.
        if result and _overlap((result[-1].start, result[-1].end), (cand.start, cand.end)):
            if cand.end - cand.start > result[-1].end - result[-1].start:
                result[-1] = cand
        else:
            result.append(cand)
    return result
