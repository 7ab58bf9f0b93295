"""Claims in the common attribution format of the evaluation data (``claimwire predict``).

The format is one JSON object per document: ``id`` and ``text`` copied from the gold
line, ``attributions`` with ``source`` (the claimant as written, null when the text
names nobody), ``cue``, ``content`` (with ``parts`` when a quote is split), ``type``
and ``source_resolved`` (whom the claimant mention refers to).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workers.claims import Claim, Span
from workers.jsonl import read_jsonl, write_jsonl
from workers.pipeline import Extractor, get_extractor


def span(value: Span | None) -> dict[str, Any] | None:
    return None if value is None else {"start": value.start, "end": value.end, "text": value.text}


def attribution(claim: Claim) -> dict[str, Any]:
    """One claim as an attribution of the common format."""
    content: dict[str, Any] = {"start": claim.content.start, "end": claim.content.end, "text": claim.content.text}
    if claim.content.parts:
        content["parts"] = [[start, end] for start, end in claim.content.parts]
    result: dict[str, Any] = {
        "source": span(claim.claimant),
        "cue": span(claim.cue),
        "content": content,
        "type": claim.type,
    }
    if claim.claimant is not None and claim.claimant.resolved:
        result["source_resolved"] = claim.claimant.resolved
    return result


def published_at(document: dict[str, Any]) -> datetime | None:
    """The document's publication time (``meta.publication_date``), as the service would take it.

    A date or time without a zone is taken as UTC, as a submitted ``published_at`` must carry one.
    """
    value = (document.get("meta") or {}).get("publication_date")
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def predict_documents(documents: Iterable[dict[str, Any]], extractor: Extractor) -> Iterator[dict[str, Any]]:
    """A prediction for every document (``id`` and ``text`` kept), extracted in one batch stream
    with its publication time, as the service extracts a submitted article."""
    documents = list(documents)
    extractions = extractor.extract_many((doc["text"] for doc in documents), (published_at(doc) for doc in documents))
    for doc, extraction in zip(documents, extractions, strict=True):
        yield {
            "id": doc["id"],
            "text": doc["text"],
            "attributions": [attribution(claim) for claim in extraction.claims],
        }


def predict_file(gold: Path, predictions: Path, extractor: Extractor | None = None) -> int:
    """Write predictions for every document of ``gold``; returns how many were written."""
    predictions.parent.mkdir(parents=True, exist_ok=True)
    return write_jsonl(predictions, predict_documents(read_jsonl(gold), extractor or get_extractor()))
