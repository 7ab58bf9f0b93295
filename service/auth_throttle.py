"""Throttling of failed authentication, per client address, counted in Redis.

Every request whose API key is missing, malformed, unknown or revoked counts against its
client address, in a fixed window kept in Redis, so that all API processes count
together: the window starts with an address's first failure and lasts the limit's period.
Once an address has ``CLAIMWIRE_AUTH_FAILURE_LIMIT`` failures in its window, its
requests that need a key get 429 with ``Retry-After`` (the window's remaining seconds)
before their key is even looked at, until the window ends: nobody guesses keys faster
than the limit from one address, and a client that keeps sending a revoked key backs off.
A valid key sent from that address waits as well, as on other public APIs that lock out
an address after repeated bad credentials. The counting and the check run in the request
gate's round trip (:mod:`service.request_gate`).
"""

from __future__ import annotations

from service.store import KEY_PREFIX

STORAGE_PREFIX = f"{KEY_PREFIX}authfail:"


def failures_key(address: str) -> str:
    """The counter of an address's failed authentications in its current window."""
    return f"{STORAGE_PREFIX}{address}"
