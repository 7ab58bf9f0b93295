"""From a POST body to a stored article with its extraction queued.

Shared by POST /v1/articles and POST /v1/extract: content negotiation (JSON, or
``text/plain`` or ``text/html`` in one of ``CHARSETS``; 415 otherwise), reading the body
(:func:`~service.request_limits.read_body`: 413, 408), what the article is made of (text,
HTML or a URL to fetch: :mod:`service.article_sources`), decoding (400 when the bytes are
not what they claim, JSON nested deeper than ``MAX_JSON_DEPTH`` or a number too large
to be finite), validation (422, also for a
text longer than ``CLAIMWIRE_MAX_TEXT_CHARS``), the ``Idempotency-Key`` header (400
when malformed, 422 when reused for another request), then :meth:`ArticleStore.submit`
on behalf of the caller's API key (503 when the queue is full). Nothing is stored
unless every check passed.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from typing import Any

from flask import Request
from marshmallow import ValidationError

from service.access import caller
from service.article_sources import prepare
from service.context import services
from service.hot_resubmissions import remember_accepted
from service.problems import (
    IDEMPOTENCY_KEY_REUSED,
    INVALID_IDEMPOTENCY_KEY,
    MALFORMED_BODY,
    QUEUE_FULL,
    ProblemError,
)
from service.request_limits import read_body
from service.schemas import ARTICLE_SUBMISSION
from service.store import IdempotencyKeyReused, QueueFull, Submission

ACCEPTED_MEDIA_TYPES = ("application/json", "text/plain", "text/html")
IDEMPOTENCY_HEADER = "Idempotency-Key"
# openapi.yaml gives the header this same pattern.
IDEMPOTENCY_KEY = re.compile(r'"?([\x21\x23-\x7e]{1,255})"?')
MAX_JSON_DEPTH = 32
# A bare body of these media types is the article's text or its HTML page.
TEXT_MEMBERS = {"text/plain": "text", "text/html": "html"}
# The charsets a news client sends a text/plain or text/html article in (IANA names, lower case, and
# the usual other spellings), with the Python codec that reads them: Unicode, and the two
# single-byte Western charsets older publishing systems still send. Anything else (say
# punycode, unicode_escape or utf-7) is 415: a codec of the Python library may be slow
# on crafted input or make text that is not Unicode (lone surrogates).
CHARSETS: dict[str, str] = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "us-ascii": "ascii",
    "ascii": "ascii",
    "iso-8859-1": "latin-1",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "windows-1252": "cp1252",
    "cp1252": "cp1252",
    "utf-16": "utf-16",
    "utf-16be": "utf-16-be",
    "utf-16le": "utf-16-le",
    "utf-32": "utf-32",
    "utf-32be": "utf-32-be",
    "utf-32le": "utf-32-le",
}
# UTF-16 and UTF-32 say their byte order with a BOM; without one it is big-endian (RFC 2781).
_BOMS = {
    "utf-16": (codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE),
    "utf-32": (codecs.BOM_UTF32_BE, codecs.BOM_UTF32_LE),
}
RETRY_FULL_QUEUE_AFTER_SECONDS = "30"


def submit_article(request: Request) -> Submission:
    """Validate the request's article and hand it to the store (which queues it if needed)."""
    idempotency = _idempotency_key(request)
    return submit_fields(_decode_body(request), idempotency)


def submit_fields(body: Any, idempotency: str | None = None) -> Submission:
    """Validate one article (decoded JSON, or text/html wrapped as a member) and submit it."""
    prepared = prepare(ARTICLE_SUBMISSION.load(body))
    fields_ = prepared.fields
    ext = services()
    if len(fields_["text"]) > ext.config.max_text_chars:
        raise ValidationError({"text": [f"Longer than {ext.config.max_text_chars} characters."]})
    try:
        submission = ext.store.submit(
            fields_, ext.jobs, idempotency, caller().owner, prepared.article_id, prepared.refresh
        )
    except IdempotencyKeyReused:
        raise ProblemError(
            422,
            IDEMPOTENCY_KEY_REUSED,
            f"The {IDEMPOTENCY_HEADER} was already used with a different request body.",
        ) from None
    except QueueFull:
        raise ProblemError(
            503,
            QUEUE_FULL,
            f"{ext.config.max_queue_depth} articles are waiting for extraction; try again later.",
            headers={"Retry-After": RETRY_FULL_QUEUE_AFTER_SECONDS},
        ) from None
    if idempotency is None and not prepared.refresh:
        remember_accepted(submission.article.id)
    return submission


def _decode_body(request: Request) -> Any:
    mimetype = request.mimetype
    config = services().config
    if mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json")):
        return load_json(read_body(request, config))
    if mimetype in TEXT_MEMBERS:
        charset = request.mimetype_params.get("charset", "utf-8")
        codec = CHARSETS.get(charset.strip().lower())
        if codec is None:
            accepted = ", ".join(sorted({name for name in CHARSETS if "-" in name}))
            raise ProblemError(
                415, detail=f"The charset {charset!r} is not accepted; send {accepted}.", headers=_accept_post()
            )
        data = read_body(request, config)
        try:
            return {TEXT_MEMBERS[mimetype]: data.decode(_byte_order(codec, data))}
        except UnicodeDecodeError as exc:
            raise ProblemError(400, MALFORMED_BODY, f"The body is not valid {charset}: {exc.reason}.") from None
    shown = mimetype or "no Content-Type"
    raise ProblemError(
        415,
        detail=f"Send the article as application/json, text/plain or text/html, not {shown}.",
        headers=_accept_post(),
    )


def _byte_order(codec: str, data: bytes) -> str:
    """``utf-16``/``utf-32`` as the BOM says (Python's codec follows the BOM, else this machine)."""
    boms = _BOMS.get(codec)
    return codec if boms is None or data.startswith(boms) else f"{codec}-be"


def load_json(data: bytes) -> Any:
    """JSON text as the API accepts it: finite numbers, Unicode text, at most ``MAX_JSON_DEPTH`` deep; else 400."""
    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    def finite(number: str) -> float:
        value = float(number)
        if not math.isfinite(value):
            raise ValueError(f"the number {number[:40]} is too large")
        return value

    try:
        loaded = json.loads(data, parse_constant=reject_constant, parse_float=finite)
        json.dumps(loaded, ensure_ascii=False).encode("utf-8")  # lone surrogates ("\ud800") are not text
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:
        raise ProblemError(400, MALFORMED_BODY, f"The body is not valid JSON text: {exc}.") from None
    if _depth(loaded) > MAX_JSON_DEPTH:
        raise _too_deep()
    return loaded


def _too_deep() -> ProblemError:
    return ProblemError(400, MALFORMED_BODY, f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest


def _idempotency_key(request: Request) -> str | None:
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        return None
    match = IDEMPOTENCY_KEY.fullmatch(raw.strip())
    if match is None:
        raise ProblemError(
            400,
            INVALID_IDEMPOTENCY_KEY,
            f"{IDEMPOTENCY_HEADER} must be 1 to 255 visible ASCII characters.",
        )
    return match.group(1)


def _accept_post() -> dict[str, str]:
    return {"Accept-Post": ", ".join(ACCEPTED_MEDIA_TYPES)}
