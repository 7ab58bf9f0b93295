"""marshmallow schemas for what clients send: an article, and the claims query.

Loading raises :class:`marshmallow.ValidationError`, which the app turns into a 422
problem whose ``errors`` member lists the messages per field. Unknown fields are
rejected so that a misspelt filter or field never silently does nothing.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema
from rfc3986 import uri_reference
from rfc3986.exceptions import ValidationError as UriValidationError
from rfc3986.validators import Validator

from workers.claims import CLAIM_TYPES

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en",)
MAX_TITLE_CHARS = 1_000
MAX_PUBLISHER_CHARS = 300
MAX_AUTHOR_CHARS = 300
MAX_URL_CHARS = 2_048
MAX_METADATA_BYTES = 8_192
MAX_CLAIMANT_FILTER_CHARS = 200
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

# A character that is not whitespace, by both Python's and JSON Schema's (ECMA-262) definitions;
# openapi.yaml gives the text fields this same pattern.
NOT_BLANK = re.compile(
    r"[^\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
)

_HTTP_SCHEME = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://")
_NOT_IN_URI = re.compile(r"[\x00-\x20\x7f-\U0010ffff\"<>\\^`{|}]")  # RFC 3986 has no place for these
_URI_VALIDATOR = (
    Validator()
    .require_presence_of("scheme", "host")
    .check_validity_of("scheme", "userinfo", "host", "path", "query", "fragment")
)

# RFC 3339 section 5.6 date-time; Python's fromisoformat alone accepts more (dates, basic format).
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)


def _not_blank(value: str) -> None:
    if not NOT_BLANK.search(value):
        raise ValidationError("Must contain more than whitespace.")


def http_url(value: str) -> None:
    """An absolute http(s) URI with a host, as RFC 3986 (and so openapi.yaml's ``format: uri``) has it.

    marshmallow's own URL field also wants a top-level domain of two letters or more,
    which RFC 3986 does not. Whether the URL may be fetched is for the SSRF guard
    (:mod:`service.fetching.guard`) to say.
    """
    if not _HTTP_SCHEME.match(value) or _NOT_IN_URI.search(value):
        raise ValidationError("Not an http or https URL.")
    try:
        _URI_VALIDATOR.validate(uri_reference(value))
    except UriValidationError:
        raise ValidationError("Not an http or https URL.") from None


def _small_json(value: dict[str, Any]) -> None:
    if len(json.dumps(value, separators=(",", ":"))) > MAX_METADATA_BYTES:
        raise ValidationError(f"Must encode to at most {MAX_METADATA_BYTES} bytes of JSON.")


class RFC3339DateTime(fields.AwareDateTime):
    """An RFC 3339 timestamp with offset, normalised to UTC."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or not _RFC3339.fullmatch(value):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        moment = super()._deserialize(value.upper(), attr, data, **kwargs)
        try:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC, 9999-12-31T23:59:59-01:00 in 10000
            return moment.astimezone(timezone.utc)
        except OverflowError:
            raise ValidationError("Must fall within the years 1 to 9999 in UTC.") from None


class ArticleSubmissionSchema(Schema):
    """An article to extract claims from (the JSON body of POST /v1/articles and /v1/extract)."""

    class Meta:
        unknown = RAISE

    text = fields.String(validate=_not_blank)
    html = fields.String(validate=_not_blank)
    refresh = fields.Boolean(load_default=False)
    author = fields.String(allow_none=True, validate=validate.Length(max=MAX_AUTHOR_CHARS))
    title = fields.String(allow_none=True, validate=validate.Length(max=MAX_TITLE_CHARS))
    url = fields.String(allow_none=True, validate=[validate.Length(max=MAX_URL_CHARS), http_url])
    publisher = fields.String(allow_none=True, validate=validate.Length(max=MAX_PUBLISHER_CHARS))
    published_at = RFC3339DateTime(format="iso", allow_none=True)
    language = fields.String(
        load_default="en",
        validate=validate.OneOf(SUPPORTED_LANGUAGES, error="Only {choices} is supported."),
    )
    metadata = fields.Dict(keys=fields.String(), allow_none=True, validate=_small_json)

    @validates_schema
    def _one_source(self, data: dict[str, Any], **_: Any) -> None:
        """The article is its text, its HTML, or (with neither) the page at its URL."""
        if "text" in data and "html" in data:
            raise ValidationError("Send either text or html, not both.", "html")
        if "text" not in data and "html" not in data and not data.get("url"):
            raise ValidationError("Send the article's text, its html, or a url to fetch it from.", "text")

    @post_load
    def _fill_absent(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Absent and null optional fields mean the same thing."""
        for name in ("title", "url", "publisher", "published_at", "metadata", "author"):
            data.setdefault(name, None)
        return data


class ClaimsQuerySchema(Schema):
    """Filters and page of GET /v1/articles/{id}/claims."""

    class Meta:
        unknown = RAISE

    claimant = fields.String(validate=validate.Length(min=1, max=MAX_CLAIMANT_FILTER_CHARS))
    type = fields.String(validate=validate.OneOf(CLAIM_TYPES))
    min_checkworthiness = fields.Float(validate=validate.Range(0.0, 1.0))
    limit = fields.Integer(load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(1, MAX_PAGE_SIZE))
    cursor = fields.String(validate=validate.Length(min=1, max=200))


# One instance of each, shared by every request: building a schema deep-copies its declared
# fields (80 µs for the article's, four times what loading a short article takes, 30 µs for the
# claims query's); loading keeps no state on the instance.
ARTICLE_SUBMISSION = ArticleSubmissionSchema()
CLAIMS_QUERY = ClaimsQuerySchema()
