"""Signed, expiring links to an article's page, for browsers that cannot send a Bearer header.

A link names the article, the API key that may read it and an expiry time, and carries
an HMAC-SHA256 over the three. Holding it opens that article's page (nothing else, not
even its JSON) as that key until it expires, or at once no more when the key is revoked.
The secret is ``CLAIMWIRE_VIEW_SECRET`` or, when unset, 32 random bytes created once in
Redis and shared by every API process. Expiry times are rounded up to the next
``EXPIRY_STEP`` seconds, so a representation carrying a link does not change every second.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import current_app, request
from redis import Redis

from service.keys import KEYS_HASH
from service.problems import INVALID_VIEW_LINK, ProblemError
from service.store import KEY_PREFIX

EXTENSION = "claimwire.view_links"
SECRET_KEY = f"{KEY_PREFIX}view-secret"
SECRET_BYTES = 32
EXPIRY_STEP = 300
OPEN_KEY = "-"  # the key id of a link made while the API is open
_KEY_ID = re.compile(r"-|[0-9a-f]{1,64}")
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{43}")


def view_path(article_id: str) -> str:
    return f"/v1/articles/{article_id}/view"


@dataclass
class ViewLinks:
    """Makes and checks view links with the service's secret."""

    redis: Redis
    ttl: int
    configured_secret: str | None = None
    _secret: bytes | None = field(default=None, init=False, repr=False)

    def secret(self) -> bytes:
        if self._secret is None:
            if self.configured_secret:
                self._secret = self.configured_secret.encode()
            else:
                self.redis.set(SECRET_KEY, secrets.token_bytes(SECRET_BYTES), nx=True)
                self._secret = self.redis.get(SECRET_KEY)
        return self._secret

    def expiry(self, now: float | None = None) -> int:
        """When a link made at ``now`` expires: ``ttl`` later, rounded up to the next ``EXPIRY_STEP``."""
        return math.ceil(((now or time.time()) + self.ttl) / EXPIRY_STEP) * EXPIRY_STEP

    def link(self, article_id: str, key_id: str | None, expires: int | None = None) -> str:
        """The page of ``article_id`` for the holder, as the API key ``key_id`` (None: open API),
        valid until ``expires`` (by default, the expiry of a link made now)."""
        expires = expires or self.expiry()
        key = key_id or OPEN_KEY
        query = urlencode({"key": key, "expires": expires, "signature": self._sign(article_id, key, expires)})
        return f"{view_path(article_id)}?{query}"

    def verify(self, article_id: str, args: dict[str, str], keys_required: bool) -> str | None:
        """The API key id a link grants (None when the API is open); 403 when it grants nothing."""
        key, expires, signature = args.get("key", ""), args.get("expires", ""), args.get("signature", "")
        if not (_KEY_ID.fullmatch(key) and expires.isdigit() and len(expires) <= 12 and _SIGNATURE.fullmatch(signature)):
            raise _invalid("The link is incomplete or malformed.")
        if not hmac.compare_digest(signature, self._sign(article_id, key, int(expires))):
            raise _invalid("The link's signature does not match.")
        if int(expires) < time.time():
            raise _invalid("The link has expired.")
        if not keys_required:  # open: the holder sees what a caller without a key sees
            return None
        if key == OPEN_KEY or not self.redis.hexists(KEYS_HASH, key):
            raise _invalid("The link was made for an API key that no longer exists, or while the API was open.")
        return key

    def _sign(self, article_id: str, key: str, expires: int) -> str:
        message = f"{article_id}\n{key}\n{expires}".encode()
        digest = hmac.new(self.secret(), message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def view_link(article_id: str) -> str:
    """``links.view`` of an article for the current request's caller."""
    from service.access import caller  # access imports this module

    return current_app.extensions[EXTENSION].link(article_id, caller().key_id)


def signed_view_key(keys_required: bool) -> str | None:
    """The API key id the current request's signed link grants; 403 unless it is valid."""
    links: ViewLinks = current_app.extensions[EXTENSION]
    return links.verify((request.view_args or {}).get("article_id", ""), request.args.to_dict(), keys_required)


def _invalid(detail: str) -> ProblemError:
    return ProblemError(403, INVALID_VIEW_LINK, detail)
