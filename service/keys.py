"""API keys: created and revoked with ``claimwire keys``, checked on every request.

A key is a random 256-bit token shown once, when it is created. Redis keeps only its
SHA-256 digest: a fast hash is enough for a token with that much entropy (there is
nothing to brute-force), and it lets a request be checked with one lookup. Each key has
a short public id, which names it in ``keys list``, in ``keys revoke`` and as the owner
of the articles it submitted.

=====================================  ======  ==========================================
key                                    type    content
=====================================  ======  ==========================================
``claimwire:apikeys``                  hash    key id -> JSON ``{"id", "name",
                                               "created_at", "digest"}``
``claimwire:apikey:{sha256(token)}``   string  the key id of that token
``claimwire:apikeys:required``         string  ``1`` once a key was created: the API needs
                                               a key, even after the last one is revoked,
                                               until ``claimwire keys open``
=====================================  ======  ==========================================

Revoking the last key therefore never opens the API by surprise: the operator opens it on
purpose, and even then a caller without a key sees only what it submitted without one.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass

from redis import Redis

from service.store import KEY_PREFIX, now_rfc3339

KEYS_HASH = f"{KEY_PREFIX}apikeys"
REQUIRED_FLAG = f"{KEY_PREFIX}apikeys:required"
TOKEN_PREFIX = "cw_"
TOKEN_BYTES = 32
KEY_ID_BYTES = 6


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def _digest_key(token_digest: str) -> str:
    return f"{KEY_PREFIX}apikey:{token_digest}"


def token_key(token: str) -> str:
    """The Redis key naming the key id of ``token``, when it is a live key's: checked on every
    request (by :mod:`service.request_gate`, with :data:`KEYS_HASH` and :data:`REQUIRED_FLAG`)."""
    return _digest_key(digest(token))


@dataclass(frozen=True, slots=True)
class ApiKey:
    """What is known about a key once created: never the token itself."""

    id: str
    name: str
    created_at: str
    digest: str


class ApiKeys:
    """The key registry in Redis."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def create(self, name: str) -> tuple[ApiKey, str]:
        """A new key and its token; the token is not stored and cannot be shown again."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        key = ApiKey(secrets.token_hex(KEY_ID_BYTES), name, now_rfc3339(), digest(token))
        with self.redis.pipeline() as pipe:
            pipe.hset(KEYS_HASH, key.id, json.dumps(asdict(key)))
            pipe.set(_digest_key(key.digest), key.id)
            pipe.set(REQUIRED_FLAG, "1")
            pipe.execute()
        return key, token

    def list(self) -> list[ApiKey]:
        """Every key, oldest first."""
        keys = [ApiKey(**json.loads(raw)) for raw in self.redis.hvals(KEYS_HASH)]
        return sorted(keys, key=lambda k: (k.created_at, k.id))

    def revoke(self, key_id: str) -> bool:
        """Remove the key; its token stops working at once. False when there is no such key."""
        raw = self.redis.hget(KEYS_HASH, key_id)
        if raw is None:
            return False
        key = ApiKey(**json.loads(raw))
        with self.redis.pipeline() as pipe:
            pipe.hdel(KEYS_HASH, key_id)
            pipe.delete(_digest_key(key.digest))
            pipe.set(REQUIRED_FLAG, "1")
            pipe.execute()
        return True

    def any(self) -> bool:
        """Whether any key exists."""
        return bool(self.redis.exists(KEYS_HASH))

    def required(self) -> bool:
        """Whether the API requires a key: one exists, or one did and the API was not opened since."""
        return bool(self.redis.exists(KEYS_HASH, REQUIRED_FLAG))

    def open_access(self) -> bool:
        """Let callers without a key use the API; False (nothing changed) while a key exists."""
        with self.redis.pipeline() as pipe:
            pipe.watch(KEYS_HASH)
            if pipe.exists(KEYS_HASH):
                return False
            pipe.multi()
            pipe.delete(REQUIRED_FLAG)
            pipe.execute()
        return True

    def identify(self, token: str) -> str | None:
        """The id of the key whose token this is, or None (unknown or revoked)."""
        key_id = self.redis.get(_digest_key(digest(token)))
        return key_id.decode() if key_id is not None else None
