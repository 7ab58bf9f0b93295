"""Rate limits per API key (per client address when the API is open), counted in Redis.

One budget per caller shared by every endpoint, ``CLAIMWIRE_RATE_LIMIT`` (say
``600/minute``), counted in a moving window kept in Redis so that all API processes
count together: a request is let through when fewer than the limit's amount of requests
(a batch counts its items) were let through in the window's length before it, so no
caller ever gets more than the amount in any window of that length. Redis keeps the
times of the caller's latest requests, up to the amount, as a list. This is the moving
window of flask-limiter (which the service used before), counted by the request gate's
script (:mod:`service.request_gate`) in the same round trip as the key check; a batch,
whose cost is known once its body is read, is counted after that in one more.

Every limited response carries ``X-RateLimit-Limit``, ``-Remaining`` (what is left of
the amount in the window) and ``-Reset`` (Unix time when the oldest request in the
window leaves it); a request over the limit gets a 429 problem with ``Retry-After``
seconds (until that oldest request leaves the window). The probes, the documentation
and requests for no route are not limited. Headers are written here, never over the
``Retry-After`` of other responses (a 409 or a 503 says when to come back for its own
reason).

When Redis cannot count (full and refusing writes), a request is let through uncounted
rather than refused: a read is still served, and a write meets the storage's own answer
(503 with ``Retry-After``, nothing stored).
"""

from __future__ import annotations

import math
import time

from flask import Flask, Response, g, request

from service.access import RATE_WINDOW, caller, is_open_endpoint
from service.config import Config
from service.context import services
from service.problems import RATE_LIMITED, ProblemError
from service.request_cost import request_cost
from service.request_gate import Limit, RateWindow

LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER = "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"


def init_rate_limits(app: Flask, config: Config) -> None:
    """Apply ``config.rate_limit`` to every caller; no-op when it is off."""
    if config.rate_limit is None:
        return

    @app.before_request
    def within_rate_limit() -> None:
        window: RateWindow | None = g.get(RATE_WINDOW)
        if window is None:  # not counted at the gate: a batch, a signed view link
            if request.endpoint is None or is_open_endpoint():
                return
            window = services().gate.count(caller().rate_limit_key, request_cost())
            if window is None:
                return
            setattr(g, RATE_WINDOW, window)
        if not window.allowed:
            wait = max(1, math.ceil(_window_end(window, services().gate.rate) - time.time()))
            detail = f"The limit is {config.rate_limit}; try again in {wait} s."
            raise ProblemError(429, RATE_LIMITED, detail, headers={"Retry-After": str(wait)})

    @app.after_request
    def rate_limit_headers(response: Response) -> Response:
        window: RateWindow | None = g.get(RATE_WINDOW)
        if window is not None:
            headers = response.headers
            for name, value in rate_limit_headers_of(window, services().gate.rate):
                headers[name] = value
        return response


def rate_limit_headers_of(window: RateWindow, limit: Limit) -> list[tuple[str, str]]:
    """The ``X-RateLimit-*`` headers of a response to a request counted in ``window``."""
    return [
        (LIMIT_HEADER, str(limit.amount)),
        (REMAINING_HEADER, str(max(0, limit.amount - window.count))),
        (RESET_HEADER, str(int(_window_end(window, limit) + 1))),
    ]


def _window_end(window: RateWindow, limit: Limit) -> float:
    """When the oldest request in the caller's window leaves it."""
    return window.oldest + limit.seconds
