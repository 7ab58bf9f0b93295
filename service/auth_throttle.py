"""Throttling of failed authentication, per client address, counted in Redis.

Every request whose API key is missing, malformed, unknown or revoked counts against its
client address, in fixed windows kept in Redis by ``limits`` (the library flask-limiter
counts with), so that all API processes count together. Once an address is over
``CLAIMWIRE_AUTH_FAILURE_LIMIT``, its requests that need a key get 429 with
``Retry-After`` before their key is even looked at, until the window ends: nobody guesses
keys faster than the limit from one address, and a client that keeps sending a revoked
key backs off. A valid key sent from that address waits as well, as on other public APIs
that lock out an address after repeated bad credentials.
"""

from __future__ import annotations

import math
import time

from limits import parse
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter

from service.store import DEFAULT_REDIS_URL, KEY_PREFIX

STORAGE_PREFIX = f"{KEY_PREFIX}authfail"
NAMESPACE = "address"


class AuthThrottle:
    """Counts failed authentications per address and says how long a blocked one must wait."""

    def __init__(self, limit: str, redis_url: str | None) -> None:
        self.limit = parse(limit)
        storage = RedisStorage(redis_url or DEFAULT_REDIS_URL, key_prefix=STORAGE_PREFIX)
        self.counter = FixedWindowRateLimiter(storage)

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try a key again; None when it is not over the limit."""
        if self.counter.test(self.limit, NAMESPACE, address):
            return None
        reset = self.counter.get_window_stats(self.limit, NAMESPACE, address).reset_time
        return max(1, math.ceil(reset - time.time()))

    def record_failure(self, address: str) -> None:
        self.counter.hit(self.limit, NAMESPACE, address)
