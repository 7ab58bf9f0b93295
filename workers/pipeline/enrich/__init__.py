"""What each claim carries for fact-checkers, filled in after the claim is found.

One module per enrichment: :mod:`.times`, :mod:`.quantities`, :mod:`.entities`,
:mod:`.outlets`, :mod:`.checkworthiness`. All of them read the one parsed ``Doc`` and
look only inside the claim's content (its ``parts`` when a quote is split), except the
outlet, which lies outside it in the same sentence.
"""

from __future__ import annotations

from datetime import date, datetime

from spacy.tokens import Doc

from workers.claims import Claim
from workers.pipeline.enrich import checkworthiness
from workers.pipeline.enrich.entities import find_entities
from workers.pipeline.enrich.outlets import find_outlet
from workers.pipeline.enrich.quantities import find_quantities
from workers.pipeline.enrich.regions import content_regions
from workers.pipeline.enrich.times import find_times, normalise

__all__ = ["enrich", "prepare"]


def prepare() -> None:
    """Pay the one-off costs now (dateparser compiles its patterns on first use, ~0.3 s),
    so a worker that calls this before forking does not pay them in every job."""
    normalise("last Tuesday, March 19, 2024 at 10 a.m.", date(2024, 3, 20), "past")


def enrich(claim: Claim, doc: Doc, published_at: datetime | None, text: str | None = None) -> None:
    """Fill the claim's time expressions, quantities, entities, outlet and check-worthiness in place.

    ``doc`` is the parsed article the claim's offsets refer to; ``text`` is the article as
    written (``doc.text`` when not given); ``published_at`` anchors relative dates ("on
    Tuesday") and may be None, leaving those without a value.
    """
    regions = content_regions(claim.content)
    claim.time_expressions = find_times(doc, regions, published_at)
    claim.quantities = find_quantities(doc, regions)
    claim.entities = find_entities(doc, regions)
    claim.reported_via = find_outlet(doc, claim, regions)
    claim.checkworthiness = checkworthiness.score(doc, claim, regions)
    _as_written(claim, doc.text if text is None else text)


def _as_written(claim: Claim, text: str) -> None:
    """Re-cut the enrichments' text from the article as written.

    The parse is of a copy of the same length with markup masked and costly shapes blanked
    (:mod:`workers.pipeline.normalize`): its offsets are the article's, its characters need not be.
    """
    found = [*claim.time_expressions, *claim.quantities, *claim.entities]
    for span in found + ([claim.reported_via] if claim.reported_via else []):
        span.text = text[span.start:span.end]
