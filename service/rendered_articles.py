"""Article bodies rendered once per process and served again while nothing they are made of changed.

Rendering ``GET /v1/articles/{id}`` costs as much as the rest of a hot read: parse the
article's hash, sign the caller's page link (HMAC), serialise the view, splice the claims
in and digest the ETag. The body depends only on what the request gate read (the
article's hash and its claims document), on the caller and on the page link's expiry step
(:data:`service.view_links.EXPIRY_STEP`), so the body made for one read is the body of
the next while all of them are the same. The memo's key holds the hash's fields exactly
as read: any change to the article, a new owner or another submission is another key,
so a stale body is never served, only one that would be made again byte for byte. Only
bodies a caller may see are kept; the memo is bounded in bytes (least recently used out)
so that an API process stays small.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

from cachetools import LRUCache

from service.claims_document import article_body, entity_tag
from service.store import DONE, seen_by
from service.view_links import ViewLinks

MAX_BYTES = 4 * 1024 * 1024  # per API process

Rendered = tuple[str, bytes]  # the body's ETag (unquoted) and the body


class RenderedArticles:
    """The JSON bodies of articles as callers see them, memoised on what they are made of."""

    def __init__(self, links: ViewLinks, max_bytes: int = MAX_BYTES) -> None:
        self.links = links
        self._memo: LRUCache[Hashable, tuple[Rendered, int]] = LRUCache(max_bytes, getsizeof=lambda entry: entry[1])
        self._lock = threading.Lock()  # cachetools' caches are not thread-safe (gthread workers)

    def render(self, raw: dict[bytes, bytes], body: bytes | None, owner: str, key_id: str | None) -> Rendered | None:
        """The ETag and body of the article hash ``raw`` (its claims document ``body``) for the caller
        ``owner`` holding ``key_id``; None when the caller may not see it or it has no claims left."""
        expires = self.links.expiry()
        key = (owner, key_id, expires, body is not None, *raw.items())
        with self._lock:
            kept = self._memo.get(key)
        if kept is not None:
            return kept[0]
        article, result = seen_by(raw, body, owner)
        if article is None or (article.status == DONE and result is None):  # 404
            return None
        made = article_body(article, result, self.links.link(article.id, key_id, expires=expires))
        rendered = (entity_tag(made), made)
        weight = len(made) + sum(len(k) + len(v) for k, v in raw.items())  # what the entry holds
        if weight <= self._memo.maxsize:
            with self._lock:
                self._memo[key] = (rendered, weight)
        return rendered
