"""The article text as HTML with every claim's claimant, cue and content marked in place.

Claims' spans are offsets into the text (end exclusive, see :mod:`workers.claims`). Spans
nest (a quote's content holds its own cue and claimant, one claim's content can hold
another claim), so the text is cut at every span boundary and elements are opened
longest first; a span that would cross an open element is split into fragments, only the
first of which carries the element id. Every piece of text goes through ``escape``: the
article's bytes never become markup.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

CONTENT_CLASS = {"direct": "quoted", "indirect": "reported", "mixed": "mixed"}


@dataclass
class _Mark:
    """One element to wrap around ``text[start:end]``."""

    start: int
    end: int
    role: str  # content, part, claimant, cue, via
    claim_ids: list[str] = field(default_factory=list)
    css: str = ""
    element_id: str | None = None

    def open_tag(self, first: bool) -> str:
        attrs = {"class": f"{self.role} {self.css}".strip(), "data-claims": " ".join(self.claim_ids)}
        if self.role == "content":
            attrs["data-content-of"] = self.claim_ids[0]
        if first and self.element_id:
            attrs["id"] = self.element_id
        rendered = "".join(f' {name}="{escape(value)}"' for name, value in attrs.items())
        return f"<mark{rendered}>" if self.role != "part" else f"<span{rendered}>"

    @property
    def close_tag(self) -> str:
        return "</mark>" if self.role != "part" else "</span>"


def claim_anchor(claim_id: str) -> str:
    return f"claim-{claim_id}"


def _marks(claims: list[dict[str, Any]], length: int) -> list[_Mark]:
    merged: dict[tuple[int, int, str], _Mark] = {}

    def add(start: int, end: int, role: str, claim_id: str, css: str = "", element_id: str | None = None) -> None:
        if not 0 <= start < end <= length:
            return
        mark = merged.setdefault((start, end, role), _Mark(start, end, role, css=css, element_id=element_id))
        mark.claim_ids.append(claim_id)

    for claim in claims:
        cid, content = claim["id"], claim["content"]
        # A quote split by its attribution: only its parts are coloured, not the words between them.
        css = CONTENT_CLASS.get(claim["type"], "") + (" split" if content.get("parts") else "")
        add(content["start"], content["end"], "content", cid, css, claim_anchor(cid))
        for start, end in content.get("parts") or []:
            add(start, end, "part", cid)
        for role in ("claimant", "cue"):
            if claim.get(role):
                add(claim[role]["start"], claim[role]["end"], role, cid)
        if claim.get("reported_via"):
            add(claim["reported_via"]["start"], claim["reported_via"]["end"], "via", cid)
    return list(merged.values())


def marked_up(text: str, claims: list[dict[str, Any]]) -> Markup:
    """``text`` escaped, with ``<mark>`` elements for the spans of ``claims``."""
    marks = _marks(claims, len(text))
    starts: dict[int, list[_Mark]] = defaultdict(list)
    for mark in marks:
        starts[mark.start].append(mark)
    for opening in starts.values():
        opening.sort(key=lambda m: (-m.end, m.role != "content"))
    boundaries = sorted({0, len(text)} | {m.start for m in marks} | {m.end for m in marks})
    out: list[str] = []
    stack: list[_Mark] = []
    for position, following in zip(boundaries, boundaries[1:] + [None]):
        ending = [m for m in stack if m.end == position]
        if ending:
            # Close down to the deepest ending element; reopen the ones still running as fragments.
            depth = min(stack.index(m) for m in ending)
            for mark in reversed(stack[depth:]):
                out.append(mark.close_tag)
            reopen = [m for m in stack[depth:] if m.end != position]
            del stack[depth:]
            for mark in reopen:
                out.append(mark.open_tag(first=False))
                stack.append(mark)
        for mark in starts.get(position, []):
            out.append(mark.open_tag(first=True))
            stack.append(mark)
        if following is not None:
            out.append(str(escape(text[position:following])))
    return Markup("".join(out))
