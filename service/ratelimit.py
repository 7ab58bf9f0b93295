"""Rate limits per API key (per client address when the API is open), counted in Redis.

flask-limiter does the counting: one budget per caller shared by every endpoint (an
application limit), in a moving window kept in Redis, so all API processes count
together. The counting runs on every request, and a Redis round trip costs about as much
CPU as the rest of a cached read, so the strategy is the one with the fewest: a moving
window takes one round trip to count the request and one to read the headers' figures
(each a Lua script), where a fixed window takes one and two (GET and TTL); it is also
exact at a window's edge, at the cost of a list of up to the limit's amount of
timestamps per caller. The probes and the documentation are not limited. The headers
are written here rather than by flask-limiter, which would also overwrite the ``Retry-After`` of
other responses (a 409 or a 503 says when to come back for its own reason): every
limited response carries ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (Unix
time), and a request over the limit gets a 429 problem with ``Retry-After`` seconds.

When Redis cannot count (it is down, or full and refusing writes), a request is let
through uncounted rather than refused: a read is still served, and a write meets the
storage's own answer (503 with ``Retry-After``, nothing stored).
"""

from __future__ import annotations

import math
import time

from flask import Flask, Response
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded

from service.access import caller, is_open_endpoint
from service.config import Config
from service.problems import RATE_LIMITED, ProblemError
from service.request_cost import request_cost
from service.store import DEFAULT_REDIS_URL, KEY_PREFIX

STRATEGY = "moving-window"
STORAGE_PREFIX = f"{KEY_PREFIX}ratelimit"
LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER = "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"


def init_rate_limits(app: Flask, config: Config) -> None:
    """Apply ``config.rate_limit`` to every caller; no-op when it is off."""
    if config.rate_limit is None:
        return
    limiter = Limiter(
        key_func=lambda: caller().rate_limit_key,
        application_limits=[config.rate_limit],
        application_limits_cost=request_cost,  # a batch counts its items
        storage_uri=config.redis_url or DEFAULT_REDIS_URL,
        storage_options={"key_prefix": STORAGE_PREFIX},
        strategy=STRATEGY,
        swallow_errors=True,
    )
    limiter.request_filter(is_open_endpoint)
    limiter.init_app(app)

    @app.after_request
    def rate_limit_headers(response: Response) -> Response:
        current = limiter.current_limit
        if current is not None:
            response.headers[LIMIT_HEADER] = str(current.limit.amount)
            response.headers[REMAINING_HEADER] = str(current.remaining)
            response.headers[RESET_HEADER] = str(current.reset_at)
        return response

    @app.errorhandler(RateLimitExceeded)
    def too_many(error: RateLimitExceeded) -> Response:
        current = limiter.current_limit
        wait = max(1, math.ceil(current.window[0] - time.time())) if current else 1
        detail = f"The limit is {error.description}; try again in {wait} s."
        return ProblemError(429, RATE_LIMITED, detail, headers={"Retry-After": str(wait)}).response()
