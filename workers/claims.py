"""The claim data model: span types and the one serialisation schema.

Every stage of the pipeline produces these dataclasses; the worker dumps them
with :class:`ExtractionSchema` into the JSON that Redis caches and the API
serves, so worker and API cannot disagree about what a claim looks like.
All offsets are Python ``str`` indices into the article text, end exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from marshmallow import Schema, fields, validate

ClaimType = Literal["direct", "indirect", "mixed"]
CLAIM_TYPES: tuple[str, ...] = ("direct", "indirect", "mixed")

Stance = Literal["asserts", "claims", "denies", "suggests", "announces"]
STANCES: tuple[str, ...] = ("asserts", "claims", "denies", "suggests", "announces")

MentionKind = Literal["name", "pronoun", "description"]
MENTION_KINDS: tuple[str, ...] = ("name", "pronoun", "description")


@dataclass(slots=True)
class Span:
    """A stretch of the article: ``text == article[start:end]``."""

    text: str
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
    sentence: Span
    time_expressions: list[TimeExpression] = field(default_factory=list)
    quantities: list[Quantity] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    reported_via: Span | None = None
    checkworthiness: float = 0.0


@dataclass(slots=True)
class Extraction:
    """The pipeline's answer for one article."""

    language: str
    extractor_version: str
    claims: list[Claim] = field(default_factory=list)


class SpanSchema(Schema):
    text = fields.String(required=True)
    start = fields.Integer(required=True, validate=validate.Range(min=0))
    end = fields.Integer(required=True, validate=validate.Range(min=0))


class ClaimantSchema(SpanSchema):
    resolved = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(MENTION_KINDS))


class CueSchema(SpanSchema):
    lemma = fields.String(required=True)
    stance = fields.String(required=True, validate=validate.OneOf(STANCES))


class ContentSchema(SpanSchema):
    parts = fields.List(fields.Tuple((fields.Integer(), fields.Integer())))


class TimeExpressionSchema(SpanSchema):
    value = fields.String(allow_none=True)


class QuantitySchema(SpanSchema):
    value = fields.Float(allow_none=True)
    unit = fields.String(allow_none=True)


class EntitySchema(SpanSchema):
    label = fields.String(required=True)


class SentenceSchema(Schema):
    start = fields.Integer(required=True)
    end = fields.Integer(required=True)


class ClaimSchema(Schema):
    id = fields.String(required=True)
    claimant = fields.Nested(ClaimantSchema, allow_none=True)
    cue = fields.Nested(CueSchema, allow_none=True)
    content = fields.Nested(ContentSchema, required=True)
    type = fields.String(required=True, validate=validate.OneOf(CLAIM_TYPES))
    sentence = fields.Nested(SentenceSchema, required=True)
    time_expressions = fields.List(fields.Nested(TimeExpressionSchema))
    quantities = fields.List(fields.Nested(QuantitySchema))
    entities = fields.List(fields.Nested(EntitySchema))
    reported_via = fields.Nested(SpanSchema, allow_none=True)
    checkworthiness = fields.Float(required=True, validate=validate.Range(0.0, 1.0))


class ExtractionSchema(Schema):
    language = fields.String(required=True)
    extractor_version = fields.String(required=True)
    claims = fields.List(fields.Nested(ClaimSchema), required=True)


def dump_extraction(extraction: Extraction) -> dict:
    """JSON-ready dict of an extraction, the shape cached in Redis and served by the API."""
    return ExtractionSchema().dump(extraction)
