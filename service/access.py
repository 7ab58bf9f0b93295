"""Who is calling: the API key behind a request, or its client address when the API is open.

Once a key was created (``claimwire keys create``), every endpoint but the probes, the
documentation, the pages' own files and ``/metrics`` (which checks its callers itself)
needs ``Authorization: Bearer <key>``; without one, 401, and an address that keeps
failing gets 429 (:mod:`service.auth_throttle`). That holds after the last key
is revoked too, until the operator runs ``claimwire keys open``: then the API is open to
whoever can reach it, and says so at start-up and in ``/readyz``. The caller's key, or
:data:`~service.store.ANONYMOUS` without one, owns the articles it submits; a caller
without a key never sees an article submitted with one. The key is what rate limits count.
The key check, the throttle, the rate limit's count and a hot read's article are one Redis
round trip (:mod:`service.request_gate`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask, g, request

from service.blueprints.metrics import METRICS_ENDPOINT
from service.blueprints.pages import OPEN_ENDPOINTS as PAGE_ENDPOINTS
from service.blueprints.pages import VIEW_ENDPOINT
from service.article_reads import keep, planned_read
from service.auth_throttle import failures_key
from service.context import current_request, services
from service.keys import token_key
from service.problems import AUTHENTICATION_THROTTLED, UNAUTHORIZED, ProblemError
from service.request_cost import BATCH_ENDPOINT
from service.request_gate import OK, THROTTLED, Passage, Read, RequestGate
from service.request_gate import UNAUTHORIZED as NO_VALID_KEY
from service.store import ANONYMOUS, KEY_PREFIX
from service.view_links import signed_view_key

OPEN_ENDPOINTS = frozenset(
    {"health.healthz", "health.readyz", "docs.openapi_yaml", "docs.problem_type", "swagger_ui_index"}
) | PAGE_ENDPOINTS | {METRICS_ENDPOINT}
OPEN_BLUEPRINTS = frozenset({"swagger_ui"})
REALM = "claimwire"
_BEARER = re.compile(r"Bearer +([\x21-\x7e]{1,512})", re.IGNORECASE)


OPEN, API_KEYS = "open", "api-keys"
RATE_LIMIT_PREFIX = f"{KEY_PREFIX}ratelimit:"
KEY_PART = "key:"  # a caller with a key is counted at RATE_LIMIT_PREFIX, this and its key id
# The environ key under which a request's gate passage is handed to Flask (:mod:`service.hot_reads`).
GATE_PASSAGE = "claimwire.gate_passage"
RATE_WINDOW = "rate_window"  # the caller's rate-limit window once counted (:mod:`service.ratelimit`)


def access_mode() -> str:
    """``api-keys`` when requests need a key, else ``open``."""
    return API_KEYS if services().keys.required() else OPEN


@dataclass(frozen=True, slots=True)
class Caller:
    """The API key id of the request (None when the API is open) and the client address."""

    key_id: str | None
    address: str

    @property
    def owner(self) -> str:
        """Whose articles the caller sees: its key's, or those submitted without a key."""
        return self.key_id or ANONYMOUS

    @property
    def rate_limit_key(self) -> str:
        """Where the rate limit counts the caller's requests."""
        who = f"{KEY_PART}{self.key_id}" if self.key_id else f"address:{self.address}"
        return RATE_LIMIT_PREFIX + who


def caller() -> Caller:
    """The current request's caller (set before every view runs)."""
    return g.get("caller") or Caller(None, request.remote_addr or "unknown")


def init_access(app: Flask) -> None:
    """Check the caller of every request before anything else runs."""
    app.before_request(_identify_caller)


def _identify_caller() -> None:
    req = current_request()
    address = req.remote_addr or "unknown"
    if req.routing_exception is not None or is_open_endpoint():
        g.caller = Caller(None, address)
        return
    ext = services()
    if req.endpoint == VIEW_ENDPOINT:  # a signed link stands in for the key it was made for
        g.caller = Caller(signed_view_key(ext.keys.required()), address)
        return
    header = req.headers.get("Authorization")
    handed: tuple[Read | None, Passage] | None = req.environ.get(GATE_PASSAGE)
    if handed is not None:  # the hot reads' layer passed the gate for this request already
        read, passage = handed
    else:
        read = planned_read()
        cost = 0 if req.endpoint == BATCH_ENDPOINT else 1  # a batch is counted once its items are
        passage = pass_gate(ext.gate, address, header, cost, read)
    if passage.outcome == THROTTLED:
        wait = max(1, passage.wait)
        raise ProblemError(
            429,
            AUTHENTICATION_THROTTLED,
            f"Too many requests from {address} had a missing or wrong API key; try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
    if passage.outcome == NO_VALID_KEY:
        raise _unauthorized("missing" if header is None else "invalid")
    g.caller = Caller(passage.key_id, address)
    if passage.rate is not None:
        setattr(g, RATE_WINDOW, passage.rate)
    if read is not None and passage.outcome == OK:
        keep(read, passage.read)


def pass_gate(gate: RequestGate, address: str, authorization: str | None, cost: int, read: Read | None) -> Passage:
    """The request gate's checks of a caller at ``address`` sending ``authorization``, counting
    ``cost`` requests, then making ``read``."""
    match = _BEARER.fullmatch(authorization.strip()) if authorization else None
    return gate.identify(
        token_key(match.group(1)) if match else None,
        failures_key(address),
        RATE_LIMIT_PREFIX + KEY_PART,
        Caller(None, address).rate_limit_key,
        cost,
        read,
    )


def is_open_endpoint() -> bool:
    """Whether the current request is for a probe or the documentation (no key, no limit)."""
    return request.endpoint in OPEN_ENDPOINTS or request.blueprint in OPEN_BLUEPRINTS


def _unauthorized(why: str) -> ProblemError:
    if why == "missing":
        detail = "Send an API key as `Authorization: Bearer <key>`."
        challenge = f'Bearer realm="{REALM}"'
    else:
        detail = "The API key is malformed, unknown or revoked."
        challenge = f'Bearer realm="{REALM}", error="invalid_token"'
    return ProblemError(401, UNAUTHORIZED, detail, headers={"WWW-Authenticate": challenge})
