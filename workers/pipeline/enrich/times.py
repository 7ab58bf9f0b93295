"""Time expressions in a claim's content, normalised against the article's publication date.

spaCy's DATE and TIME entities find the expressions. Values are ISO 8601 at the precision
the text gives: a day ``2024-03-19``, a month ``2024-03``, a year ``2024``; a week is given
as its Monday. A bare weekday ("on Tuesday") is the most recent such day on or before
publication, or the next one on or after it when the claim is in the future tense
(dateutil). Everything else goes to dateparser, relative to the publication date, preferring
the past for past-tense claims, the future for future-tense ones and otherwise the
publication year ("March 19"). Expressions with no calendar anchor ("six years",
"just days", "10 p.m.", "the 1990s"), and relative ones when no publication date is known,
keep ``value=None``: no value is better than an invented one.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import lru_cache

from dateparser.date import DateDataParser
from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta, weekday
from spacy.tokens import Doc

from workers.claims import TimeExpression
from workers.pipeline.enrich.regions import Region, entities_in, region_tokens
from workers.pipeline.enrich.tense import Tense, tense_at

TIME_LABELS = frozenset({"DATE", "TIME"})
WEEKDAYS: dict[str, weekday] = {
    "monday": MO, "tuesday": TU, "wednesday": WE, "thursday": TH,
    "friday": FR, "saturday": SA, "sunday": SU,
}
PREFER_DATES_FROM: dict[Tense, str] = {"past": "past", "future": "future", "present": "current_period"}
# Base for texts that carry their own year when no publication date is known: only the
# year-bearing parts of the result are used then.
UNDATED_BASE = datetime(2000, 1, 1, 12)
NORMALISE_CACHE_SIZE = 4096

_WEEKDAY = re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.I)
_MONTH = re.compile(
    r"\b(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sept?(ember)?"
    r"|oct(ober)?|nov(ember)?|dec(ember)?)\b", re.I)
_YEAR = re.compile(r"\b(1[5-9]|20)\d\d\b(?!'?s)")
_DAY_WORD = re.compile(r"\b(today|tonight|yesterday|tomorrow)\b", re.I)
_DEICTIC = re.compile(r"\b(last|this|next|previous|coming|ago)\b", re.I)
_CALENDAR_UNIT = re.compile(r"\b(days?|weeks?|months?|years?|morning|afternoon|evening|night)\b", re.I)
_WEEKEND = re.compile(r"\bweekend\b", re.I)
_NEXT = re.compile(r"\b(next|coming)\b", re.I)
_AGE = re.compile(r"\bold\b|-year-old|\baged?\b", re.I)
_DECADE = re.compile(r"\d0'?s\b")
_EDGE_WORDS = re.compile(
    r"^(?:(?:on|in|at|since|by|until|from|during|as of|over|the|very)\s+)+|\s+(?:alone|so far|or so)$", re.I)
_QUALIFIER = re.compile(
    r"^(?:early|mid|late|earlier|later|end of|beginning of|start of|middle of)(?:-|\s+)(?:the\s+)?", re.I)


def find_times(doc: Doc, regions: list[Region], published_at: datetime | None) -> list[TimeExpression]:
    """DATE and TIME entities inside the regions, each with its normalised value (or None)."""
    published = published_at.date() if published_at is not None else None
    found: list[TimeExpression] = []
    for span in region_tokens(doc, regions):
        for ent in entities_in(span):
            if ent.label_ not in TIME_LABELS or _AGE.search(ent.text):
                continue  # "a 50-year-old" is tagged DATE but is an age
            value = normalise(ent.text, published, tense_at(ent.root))
            found.append(TimeExpression(ent.text, ent.start_char, ent.end_char, value=value))
    return found


@lru_cache(maxsize=NORMALISE_CACHE_SIZE)
def normalise(expression: str, published: date | None, tense: Tense = "present") -> str | None:
    """ISO 8601 value of a time expression as meant on ``published``, or None if it has none."""
    text = _QUALIFIER.sub("", _EDGE_WORDS.sub("", " ".join(expression.split())))
    if not text or _DECADE.search(text) or _AGE.search(text):
        return None
    has_date = bool(_MONTH.search(text) or _YEAR.search(text))
    if published is None:
        if not _YEAR.search(text) or _DEICTIC.search(text) or _DAY_WORD.search(text):
            return None
        return _parse(text, UNDATED_BASE, tense)
    if not has_date and not _DEICTIC.search(text):
        day = _WEEKDAY.search(text)
        if day:
            return _nearest(published, WEEKDAYS[day.group(1).lower()], tense)
    if not has_date and _WEEKEND.search(text):
        ahead = "future" if _NEXT.search(text) else ("past" if _DEICTIC.search(text) else tense)
        return _nearest(published, SA, ahead)
    if not _anchored(text):
        return None
    return _parse(text, datetime.combine(published, time(12)), tense)


def _anchored(text: str) -> bool:
    """Whether the text fixes a place in the calendar (not a bare duration like "six years")."""
    if _MONTH.search(text) or _YEAR.search(text) or _WEEKDAY.search(text) or _DAY_WORD.search(text):
        return True
    return bool(_DEICTIC.search(text) and _CALENDAR_UNIT.search(text))


def _nearest(published: date, day: weekday, tense: Tense) -> str | None:
    """That weekday on or before publication, or on or after it for the future."""
    try:
        return (published + relativedelta(weekday=day(+1) if tense == "future" else day(-1))).isoformat()
    except OverflowError:  # a publication date at the very edge of the calendar
        return None


@lru_cache(maxsize=64)
def _parser(base: datetime, prefer: str) -> DateDataParser:
    return DateDataParser(languages=["en"], settings={
        "RELATIVE_BASE": base, "PREFER_DATES_FROM": prefer, "RETURN_TIME_AS_PERIOD": True,
    })


def _parse(text: str, base: datetime, tense: Tense) -> str | None:
    data = _parser(base, PREFER_DATES_FROM[tense]).get_date_data(text)
    when = data.date_obj
    if when is None:
        return None
    if data.period == "year":
        return f"{when.year:04d}"
    if data.period == "month":
        # "in March", said in March: the current month, not the same month a year away
        year = base.year if when.month == base.month and not _YEAR.search(text) else when.year
        return f"{year:04d}-{when.month:02d}"
    if data.period == "week":
        return _nearest(when.date(), MO, "past")
    if data.period == "day":
        return when.date().isoformat()
    # a clock time or part of day: the date is known only if the text names the day
    if _WEEKDAY.search(text) or _DAY_WORD.search(text) or _MONTH.search(text) or _DEICTIC.search(text):
        return when.date().isoformat()
    return None
