"""Named entities inside a claim's content: who and what a fact-checker would look up.

spaCy's NER labels also cover numbers and dates; those go to :mod:`.quantities` and
:mod:`.times`, so only the naming labels are kept here.
"""

from __future__ import annotations

from spacy.tokens import Doc

from workers.claims import Entity
from workers.pipeline.enrich.regions import Region, entities_in, region_tokens

NAMED_LABELS = frozenset({
    "PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE",
})


def find_entities(doc: Doc, regions: list[Region]) -> list[Entity]:
    """Named entities lying wholly inside the regions, in text order."""
    return [
        Entity(ent.text, ent.start_char, ent.end_char, label=ent.label_)
        for span in region_tokens(doc, regions)
        for ent in entities_in(span)
        if ent.label_ in NAMED_LABELS
    ]
