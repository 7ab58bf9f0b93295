"""The claim data model: the one definition of what a claim is, and its serialisation.

Every stage of the pipeline produces these dataclasses; :func:`dump_extraction` turns
them into the JSON that Redis caches and the API serves, field by field as declared
here, so worker and API cannot disagree about what a claim looks like. The enumerations
are the arguments of the ``Literal`` types, and tests/test_openapi.py checks openapi.yaml's
claim schemas against these classes. All offsets are Python ``str`` indices into the
article text, end exclusive.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, Union

ClaimType = Literal["direct", "indirect", "mixed"]
Stance = Literal["asserts", "claims", "denies", "suggests", "announces"]
MentionKind = Literal["name", "pronoun", "description"]

CLAIM_TYPES: tuple[str, ...] = typing.get_args(ClaimType)
STANCES: tuple[str, ...] = typing.get_args(Stance)
MENTION_KINDS: tuple[str, ...] = typing.get_args(MentionKind)


@dataclass(slots=True)
class Span:
    """A stretch of the article: ``text == article[start:end]``."""

    text: str
    start: int
    end: int


@dataclass(slots=True)
class Sentence:
    """Where the claim's sentence lies; offsets only, as the text is the article's."""

    start: int
    end: int


@dataclass(slots=True)
class Claimant(Span):
    """Who makes the claim, as written, and who that mention refers to."""

    resolved: str = ""
    kind: MentionKind = "name"


@dataclass(slots=True)
class Cue(Span):
    """The reporting expression ("has claimed", "according to", ":")."""

    lemma: str = ""
    stance: Stance = "asserts"


@dataclass(slots=True)
class Content(Span):
    """What is claimed; ``parts`` lists the pieces of a quote split by its attribution."""

    parts: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class TimeExpression(Span):
    """A time expression in the content; ``value`` is an ISO 8601 date when it could be normalised."""

    value: str | None = None


@dataclass(slots=True)
class Quantity(Span):
    """A number or quantity in the content ("9,000 children"); ``value`` is the number when parseable."""

    value: float | None = None
    unit: str | None = None


@dataclass(slots=True)
class Entity(Span):
    """A named entity inside the content, with its spaCy label (PERSON, ORG, GPE, ...)."""

    label: str = ""


@dataclass(slots=True)
class Claim:
    """One attributed claim with everything a fact-checker needs next."""

    id: str
    claimant: Claimant | None
    cue: Cue | None
    content: Content
    type: ClaimType
    sentence: Sentence
    time_expressions: list[TimeExpression] = field(default_factory=list)
    quantities: list[Quantity] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    reported_via: Span | None = None
    checkworthiness: float = 0.0


@dataclass(slots=True)
class Extraction:
    """The pipeline's answer for one article."""

    detected_language: str
    extractor_version: str
    claims: list[Claim] = field(default_factory=list)


def dump_extraction(extraction: Extraction) -> dict[str, Any]:
    """JSON-ready dict of an extraction, the shape cached in Redis and served by the API."""
    return to_json(extraction)


def to_json(value: Any) -> Any:
    """The JSON form of a model value: a dataclass as an object of its fields in declared order.

    A field declared ``float`` is written as a float even when the pipeline filled it with
    an ``int``, so a number's JSON does not depend on how it was computed.
    """
    if dataclasses.is_dataclass(value):
        hints = field_types(type(value))
        return {f.name: _field_json(hints[f.name], getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    return value


@cache
def field_types(cls: type) -> dict[str, Any]:
    """The resolved type of each field of a model dataclass."""
    return typing.get_type_hints(cls)


def without_none(hint: Any) -> tuple[Any, bool]:
    """``(T, True)`` for ``T | None``, else ``(hint, False)``."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (Union, types.UnionType) and type(None) in args:
        (inner,) = (a for a in args if a is not type(None))  # the model has no wider unions
        return inner, True
    return hint, False


def _field_json(hint: Any, value: Any) -> Any:
    if value is not None and without_none(hint)[0] is float:
        return float(value)
    return to_json(value)
