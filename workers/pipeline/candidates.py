"""Attribution candidates: what the rules propose, before claims are built from them.

Rules work on tokens; a candidate keeps character spans plus the tokens later stages
need (the source head for coreference). :func:`outermost` keeps only outermost
attributions, the convention of news attribution corpora: "X said Y claimed Z" is one
claim by X.
"""

from __future__ import annotations

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
    rule: str

    @property
    def start(self) -> int:
        return self.parts[0][0]

    @property
    def end(self) -> int:
        return self.parts[-1][1]


def _inside(span: CharSpan, outer: CharSpan) -> bool:
    return outer[0] <= span[0] and span[1] <= outer[1]


def _overlap(a: CharSpan, b: CharSpan) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _covers_cue(outer: Candidate, inner: Candidate) -> bool:
    if inner.cue is None:
        return False
    return any(_inside(inner.cue, part) for part in outer.parts)


def outermost(candidates: list[Candidate]) -> list[Candidate]:
    """Drop candidates nested in another's content and, of overlapping contents, keep the longer."""
    kept = [c for c in candidates if not any(o is not c and _covers_cue(o, c) for o in candidates)]
    kept.sort(key=lambda c: (c.start, -c.end))
    result: list[Candidate] = []
    for cand in kept:
        clash = next((r for r in result if _overlap((r.start, r.end), (cand.start, cand.end))), None)
        if clash is None:
            result.append(cand)
        elif cand.end - cand.start > clash.end - clash.start:
            result[result.index(clash)] = cand
    return result
