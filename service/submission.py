"""From a POST body to a stored article with its extraction queued.

Shared by POST /v1/articles and POST /v1/extract: content negotiation (JSON or
``text/plain``; 415 otherwise), decoding (400 when the bytes are not what they
claim), validation (422), the ``Idempotency-Key`` header (400 when malformed,
422 when reused for another request), then :meth:`ArticleStore.submit`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Request

from service.context import services
from service.problems import (
    IDEMPOTENCY_KEY_REUSED,
    INVALID_IDEMPOTENCY_KEY,
    MALFORMED_BODY,
    ProblemError,
)
from service.schemas import ArticleSubmissionSchema
from service.store import IdempotencyKeyReused, Submission

ACCEPTED_MEDIA_TYPES = ("application/json", "text/plain")
IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = re.compile(r'"?([\x21\x23-\x7e]{1,255})"?')


def submit_article(request: Request) -> Submission:
    """Validate the request's article and hand it to the store (which queues it if needed)."""
    idempotency = _idempotency_key(request)
    fields_ = ArticleSubmissionSchema().load(_decode_body(request))
    ext = services()
    try:
        return ext.store.submit(fields_, ext.jobs, idempotency)
    except IdempotencyKeyReused:
        raise ProblemError(
            422,
            IDEMPOTENCY_KEY_REUSED,
            f"The {IDEMPOTENCY_HEADER} was already used with a different request body.",
        ) from None


def _decode_body(request: Request) -> Any:
    mimetype = request.mimetype
    if mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json")):
        return _load_json(request.get_data(cache=False))
    if mimetype == "text/plain":
        charset = request.mimetype_params.get("charset", "utf-8")
        try:
            return {"text": request.get_data(cache=False).decode(charset)}
        except LookupError:
            raise ProblemError(415, detail=f"Unknown charset {charset!r}.", headers=_accept_post()) from None
        except UnicodeDecodeError as exc:
            raise ProblemError(400, MALFORMED_BODY, f"The body is not valid {charset}: {exc.reason}.") from None
    shown = mimetype or "no Content-Type"
    raise ProblemError(
        415,
        detail=f"Send the article as application/json or text/plain, not {shown}.",
        headers=_accept_post(),
    )


def _load_json(data: bytes) -> Any:
    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        loaded = json.loads(data, parse_constant=reject_constant)
        json.dumps(loaded, ensure_ascii=False).encode("utf-8")  # lone surrogates ("\ud800") are not text
    except RecursionError:
        raise ProblemError(400, MALFORMED_BODY, "The JSON is nested too deeply.") from None
    except ValueError as exc:
        raise ProblemError(400, MALFORMED_BODY, f"The body is not valid JSON text: {exc}.") from None
    return loaded


def _idempotency_key(request: Request) -> str | None:
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        return None
    match = _IDEMPOTENCY_KEY.fullmatch(raw.strip())
    if match is None:
        raise ProblemError(
            400,
            INVALID_IDEMPOTENCY_KEY,
            f"{IDEMPOTENCY_HEADER} must be 1 to 255 visible ASCII characters.",
        )
    return match.group(1)


def _accept_post() -> dict[str, str]:
    return {"Accept-Post": ", ".join(ACCEPTED_MEDIA_TYPES)}
