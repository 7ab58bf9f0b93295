"""Rate limits per API key (per client address when the API is open), counted in Redis.

One budget per caller shared by every endpoint, in fixed windows kept in Redis, so all
API processes count together: a caller's first request of a window creates its counter
with the window's length as its lifetime, and every request increments it and reads its
remaining lifetime in the same MULTI transaction, one round trip. ``limits`` parses the
configured limit (``600/minute``, ``50 per second``). The probes and the documentation
are not limited. Every limited response carries ``X-RateLimit-Limit``, ``-Remaining``
and ``-Reset`` (Unix time), and a request over the limit gets a 429 problem with
``Retry-After`` seconds (other responses keep their own ``Retry-After``). One round trip
matters: the counting runs on every request, and a round trip costs about as much CPU as
the rest of a cached read.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import limits
from flask import Flask, Response, g

from service.access import caller, is_open_endpoint
from service.config import Config
from service.context import services
from service.problems import RATE_LIMITED, ProblemError
from service.store import KEY_PREFIX

STORAGE_PREFIX = f"{KEY_PREFIX}ratelimit"
LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER = "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"


@dataclass(frozen=True, slots=True)
class Window:
    """Where the caller stands in the current window, after counting this request."""

    limit: int
    count: int
    reset_at: float

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)


def init_rate_limits(app: Flask, config: Config) -> None:
    """Apply ``config.rate_limit`` to every caller; no-op when it is off."""
    if config.rate_limit is None:
        return
    item = limits.parse(config.rate_limit)
    seconds = item.get_expiry()

    @app.before_request
    def count_request() -> None:
        if is_open_endpoint():
            return
        key = f"{STORAGE_PREFIX}:{caller().rate_limit_key}"
        with services().redis.pipeline() as pipe:
            pipe.set(key, 0, ex=seconds, nx=True)
            pipe.incr(key)
            pipe.ttl(key)
            _, count, ttl = pipe.execute()
        window = Window(item.amount, count, time.time() + max(ttl, 0))
        g.rate_limit_window = window
        if count > item.amount:
            wait = max(1, math.ceil(window.reset_at - time.time()))
            detail = f"The limit is {item}; try again in {wait} s."
            raise ProblemError(429, RATE_LIMITED, detail, headers={"Retry-After": str(wait)})

    @app.after_request
    def rate_limit_headers(response: Response) -> Response:
        window: Window | None = g.get("rate_limit_window")
        if window is not None:
            response.headers[LIMIT_HEADER] = str(window.limit)
            response.headers[REMAINING_HEADER] = str(window.remaining)
            response.headers[RESET_HEADER] = str(int(window.reset_at + 1))
        return response
