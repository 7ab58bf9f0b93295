"""RFC 9457 problem details: the one shape of every error the API returns.

Plain HTTP errors (404, 405, 413, 415, 431, 500) use the type ``about:blank`` and the
status phrase as title. Problems a client may want to branch on get their own
type, a relative URI under ``/problems/`` that the docs blueprint dereferences to
a short human-readable page, as RFC 9457 recommends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from flask import Response, json

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "/problems/"


@dataclass(frozen=True, slots=True)
class ProblemType:
    """A documented problem type: its slug, title and what a client should do about it."""

    slug: str
    title: str
    description: str

    @property
    def uri(self) -> str:
        return PROBLEM_TYPE_PREFIX + self.slug


VALIDATION = ProblemType(
    "validation-error",
    "Request validation failed",
    "The body or the query parameters do not match the schema. The member `errors` maps "
    "each offending field to its messages; fix them and send the request again.",
)
MALFORMED_BODY = ProblemType(
    "malformed-body",
    "Malformed request body",
    "The body could not be decoded: invalid JSON (NaN and Infinity are not JSON, nor is a "
    "number too large to be finite), JSON nested too deeply, or text that is not valid in "
    "the declared charset.",
)
INVALID_IDEMPOTENCY_KEY = ProblemType(
    "invalid-idempotency-key",
    "Invalid Idempotency-Key header",
    "The Idempotency-Key header must hold 1 to 255 visible ASCII characters (a quoted "
    "structured-field string is accepted too).",
)
IDEMPOTENCY_KEY_REUSED = ProblemType(
    "idempotency-key-reused",
    "Idempotency-Key reused with a different request",
    "This Idempotency-Key was first sent with a different body. Use a fresh key for a new request.",
)
ARTICLE_NOT_DONE = ProblemType(
    "article-not-done",
    "The article's claims are not available",
    "The article is still queued or running, or its extraction failed. Poll the article "
    "(its `status`) and ask for the claims once it is `done`.",
)
EXTRACTION_FAILED = ProblemType(
    "extraction-failed",
    "Claim extraction failed",
    "The worker could not extract claims from this article; `detail` says why. Failures the "
    "service retries on its own (lost workers, timeouts, storage hiccups) are reported only "
    "once the retries are used up. Submitting the article again queues a new attempt.",
)
FETCH_FAILED = ProblemType(
    "fetch-failed",
    "The article's page could not be fetched",
    "The service did not fetch the page at the article's URL. The member `reason` says why: "
    "`refused-address` (the host resolves to a loopback, private, link-local or other "
    "non-public address, named in `address_class`), `refused-url` (scheme, port or form not "
    "allowed), `http-status` (the page answered `http_status`), `timeout`, `too-large`, "
    "`content-type` (not HTML or plain text), `redirects` (too many), `network`, or "
    "`no-article` (no article text was found in the page). A failed fetch is not cached: "
    "submitting the URL again fetches the page again.",
)
STORAGE_UNAVAILABLE = ProblemType(
    "storage-unavailable",
    "Storage unavailable",
    "The service cannot reach Redis right now, or Redis is full and refuses writes. Nothing of the "
    "request was stored; retry after the number of seconds in Retry-After.",
)
UNAUTHORIZED = ProblemType(
    "unauthorized",
    "API key required",
    "This service requires an API key: send `Authorization: Bearer <key>`. The key was "
    "missing, malformed, unknown or revoked; ask the operator for one (`claimwire keys create`).",
)
RATE_LIMITED = ProblemType(
    "rate-limited",
    "Too many requests",
    "This API key (or, when the service is open, this client address) sent more requests "
    "than its limit allows. Wait the number of seconds in Retry-After; the X-RateLimit-* "
    "headers of every response tell the limit, what is left of it and when it resets.",
)
AUTHENTICATION_THROTTLED = ProblemType(
    "authentication-throttled",
    "Too many failed authentications",
    "Too many requests from this client address came with a missing or wrong API key, so "
    "its requests are not checked for a while. Wait the number of seconds in Retry-After, "
    "and send a valid key.",
)
BODY_TIMEOUT = ProblemType(
    "body-timeout",
    "Request body too slow",
    "The request body did not arrive in full within the time the service allows for it "
    "(`CLAIMWIRE_BODY_TIMEOUT`). Nothing was stored; send the request again, all at once.",
)
QUEUE_FULL = ProblemType(
    "queue-full",
    "Extraction queue full",
    "The service has more articles waiting than it accepts at once, so it does not take new "
    "work for now. Nothing was stored; send the same request again after Retry-After seconds.",
)
NOT_READY = ProblemType(
    "not-ready",
    "Service not ready",
    "Redis is unreachable or no extraction worker is alive: accepted articles would not be "
    "processed. The member `checks` tells which.",
)
INVALID_VIEW_LINK = ProblemType(
    "invalid-view-link",
    "Invalid or expired view link",
    "The link to the article's page is malformed, was not signed by this service, is for "
    "another article, belongs to a revoked API key or has expired. Fetch the article again "
    "with the API key: its `links.view` is a fresh link.",
)
METRICS_FORBIDDEN = ProblemType(
    "metrics-forbidden",
    "Metrics not readable from here",
    "/metrics answers callers from the networks in CLAIMWIRE_METRICS_ALLOW (loopback by default) "
    "that did not come through a proxy, or a request with `Authorization: Bearer <CLAIMWIRE_METRICS_TOKEN>`.",
)

PROBLEM_TYPES: dict[str, ProblemType] = {
    t.slug: t
    for t in (
        VALIDATION,
        MALFORMED_BODY,
        INVALID_IDEMPOTENCY_KEY,
        IDEMPOTENCY_KEY_REUSED,
        ARTICLE_NOT_DONE,
        EXTRACTION_FAILED,
        FETCH_FAILED,
        STORAGE_UNAVAILABLE,
        UNAUTHORIZED,
        RATE_LIMITED,
        AUTHENTICATION_THROTTLED,
        BODY_TIMEOUT,
        QUEUE_FULL,
        NOT_READY,
        INVALID_VIEW_LINK,
        METRICS_FORBIDDEN,
    )
}


def problem_body(
    status: int,
    problem_type: ProblemType | None = None,
    detail: str | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    """The problem object itself, for responses and for embedding (a failed article)."""
    body: dict[str, Any] = {
        "type": problem_type.uri if problem_type else "about:blank",
        "title": problem_type.title if problem_type else HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extensions)
    return body


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    """An ``application/problem+json`` response for a problem object."""
    response = Response(json.dumps(body), status=body["status"], mimetype=PROBLEM_MEDIA_TYPE)
    response.headers.update(headers or {})
    return response


@dataclass
class ProblemError(Exception):
    """Raised anywhere in a request; the app's error handler turns it into the response."""

    status: int
    problem_type: ProblemType | None = None
    detail: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)

    def response(self) -> Response:
        body = problem_body(self.status, self.problem_type, self.detail, **self.extensions)
        return problem_response(body, self.headers)
