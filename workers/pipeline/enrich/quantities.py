"""Numbers and quantities in a claim's content, with their value and what they count.

The numbers are spaCy's CARDINAL, MONEY, PERCENT and QUANTITY entities plus numerals the
NER missed (year-like ones aside). Each is widened to the noun it counts when that follows
it ("some 9,000 children", "nine Ukrainian shells", "thousands of refugees") and to a
participle right after ("16 people killed", "98 wounded"). ``value`` is the number
("more than 150" gives 150: the bound is in the text) or None when vague ("thousands");
number words go through text2num. ``unit`` is the noun counted, "percent", the currency
code for money, or the unit word of a measure.
"""

from __future__ import annotations

import re

from spacy.tokens import Doc, Span as TokenSpan, Token
from text_to_num import text2num

from workers.claims import Quantity
from workers.pipeline.enrich.regions import Region, entities_in, region_tokens

NUMBER_LABELS = frozenset({"CARDINAL", "MONEY", "PERCENT", "QUANTITY"})
SCALES: dict[str, float] = {
    "hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "dozen": 12,
}
VAGUE_PLURALS = frozenset({
    "hundreds", "thousands", "millions", "billions", "trillions", "dozens", "tens", "scores",
})
CURRENCIES: dict[str, str] = {
    "$": "USD", "us$": "USD", "dollar": "USD", "dollars": "USD", "€": "EUR", "euro": "EUR",
    "euros": "EUR", "£": "GBP", "sterling": "GBP", "¥": "JPY", "yen": "JPY", "yuan": "CNY",
    "ruble": "RUB", "rubles": "RUB", "rouble": "RUB", "roubles": "RUB", "₽": "RUB",
    "hryvnia": "UAH", "hryvnias": "UAH", "₴": "UAH", "rupee": "INR", "rupees": "INR", "₹": "INR",
}
COUNTER_DEPS = frozenset({"nummod", "quantmod", "compound", "amod", "nmod"})
MAX_NOUN_GAP = 3  # tokens between a number and the noun it counts ("six more years")
_YEAR_LIKE = re.compile(r"^(1[89]|20)\d\d$")
_DIGITS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$|^\d+(\.\d+)?$|^\.\d+$")


def find_quantities(doc: Doc, regions: list[Region]) -> list[Quantity]:
    """Quantities lying wholly inside the regions, in text order."""
    found: list[Quantity] = []
    for span in region_tokens(doc, regions):
        ents = entities_in(span)
        groups = [ent for ent in ents if ent.label_ in NUMBER_LABELS]
        taken = {i for ent in ents for i in range(ent.start, ent.end)}
        groups += _stray_numerals(span, taken)
        groups.sort(key=lambda g: g.start)
        end = 0
        for group in groups:
            if group.start < end:
                continue  # already inside the previous quantity ("thousands of 20 ...")
            quantity, end = _quantity(group, span)
            found.append(quantity)
    return found


def _is_numeral(tok: Token) -> bool:
    return tok.tag_ == "CD" or (tok.like_num and tok.pos_ == "NUM")


def _stray_numerals(span: TokenSpan, taken: set[int]) -> list[TokenSpan]:
    """Runs of numerals outside every entity: numbers the NER did not tag."""
    doc = span.doc
    runs: list[TokenSpan] = []
    i = span.start
    while i < span.end:
        if i in taken or not _is_numeral(doc[i]):
            i += 1
            continue
        j = i + 1
        while j < span.end and j not in taken and (_is_numeral(doc[j]) or doc[j].lower_ in SCALES):
            j += 1
        if not _YEAR_LIKE.match(doc[i:j].text):
            runs.append(TokenSpan(doc, i, j, label="CARDINAL"))
        i = j
    return runs


def _quantity(group: TokenSpan, region: TokenSpan) -> tuple[Quantity, int]:
    """The quantity of a number group, widened to what it counts; also its end token."""
    doc = group.doc
    end = group.end
    unit: str | None = None
    if group.label_ == "PERCENT":
        unit = "percent"
    elif group.label_ == "MONEY":
        unit = next((CURRENCIES[t.lower_] for t in group if t.lower_ in CURRENCIES), None)
    elif group.label_ == "QUANTITY":
        unit = group[-1].text if group[-1].pos_ == "NOUN" else None
    else:
        counted = _counted(group, region)
        if counted is not None:
            unit, end = counted.text, counted.i + 1
            if end < region.end and doc[end].tag_ == "VBN" and doc[end].head.i == counted.i:
                end += 1  # "16 people killed"
        elif end < region.end and doc[end].tag_ in ("VBN", "JJ") and group.root.head.i == end:
            unit, end = doc[end].text, end + 1  # "98 wounded"
    span = doc[group.start:end]
    return Quantity(span.text, span.start_char, span.end_char, value=number_value(group), unit=unit), end


def _counted(group: TokenSpan, region: TokenSpan) -> Token | None:
    """The noun a number counts, when it follows the number closely inside the region."""
    root = group.root
    head = root.head
    if root.dep_ in COUNTER_DEPS and head.pos_ in ("NOUN", "PROPN"):
        if group.end <= head.i < region.end and head.i - group.end < MAX_NOUN_GAP:
            return head
    for prep in root.rights:  # "thousands of refugees", "one of its members"
        if prep.dep_ == "prep" and prep.lower_ == "of" and prep.i == group.end:
            noun = next((c for c in prep.children if c.dep_ == "pobj"), None)
            if noun is not None and noun.i < region.end and noun.i - group.end <= MAX_NOUN_GAP:
                return noun
    return None


def number_value(group: TokenSpan) -> float | None:
    """The number a group of tokens states, or None if it is vague or unreadable."""
    tokens = [t for t in group if _is_numeral(t) or t.lower_ in SCALES or t.lower_ in VAGUE_PLURALS]
    if not tokens or any(t.lower_ in VAGUE_PLURALS for t in tokens):
        return None
    words = [t.lower_ for t in tokens]
    scale = 1.0
    while words and words[-1] in SCALES and len(words) > 1 and _digits(words[-2]) is not None:
        scale *= SCALES[words.pop()]  # "1.5 million"
    if len(words) == 1 and _digits(words[0]) is not None:
        return _digits(words[0]) * scale
    if words[-1] == "dozen":
        count = _words(words[:-1]) if len(words) > 1 else 1.0
        return None if count is None else count * 12 * scale
    value = _words(words)
    return None if value is None else value * scale


def _digits(text: str) -> float | None:
    return float(text.replace(",", "")) if _DIGITS.match(text) else None


def _words(words: list[str]) -> float | None:
    if len(words) == 1 and words[0] in SCALES:
        return SCALES[words[0]]  # "a million"
    try:
        return float(text2num(" ".join(words), "en"))
    except ValueError:
        return None
