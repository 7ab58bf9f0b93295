"""Article bodies rendered once per process and served again while nothing they are made of changed.

Rendering ``GET /v1/articles/{id}`` costs as much as the rest of a hot read: parse the
article's hash, sign the caller's page link (HMAC), serialise the view, splice the claims
in and digest the ETag. The body depends only on what the request gate read (the
article's hash and its claims document), on the caller and on the page link's expiry step
(:data:`service.view_links.EXPIRY_STEP`), so the body made for one read is the body of
the next while all of them are the same. The memo's key holds the hash's revision, which
every write of the hash replaces (:data:`service.store.REVISION_FIELD`), or, for a hash
written before revisions were, its fields exactly as read: any change to the article, a
new owner or another submission is another key, so a stale body is never served, only one
that would be made again byte for byte. Only bodies a caller may see are kept; the memo is
bounded in bytes (least recently used out) so that an API process stays small.

Since a revision names all of the hash, the process tells the request gate the revision it
last rendered of an article (:meth:`RenderedArticles.revision_of`); while the hash is still
at that revision, the gate sends neither it nor the document, only whether the document
exists, and the body is taken from the memo (:meth:`RenderedArticles.held`).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

from cachetools import LRUCache

from service.claims_document import article_body, entity_tag
from service.store import DONE, REVISION_FIELD, seen_by
from service.view_links import ViewLinks

MAX_BYTES = 4 * 1024 * 1024  # per API process
MAX_REVISIONS = 4096  # articles whose last rendered revision a process remembers
_REVISION, _ID = REVISION_FIELD.encode(), b"id"

Rendered = tuple[str, bytes]  # the body's ETag (unquoted) and the body


class RenderedArticles:
    """The JSON bodies of articles as callers see them, memoised on what they are made of."""

    def __init__(self, links: ViewLinks, max_bytes: int = MAX_BYTES) -> None:
        self.links = links
        self._memo: LRUCache[Hashable, tuple[Rendered, int]] = LRUCache(max_bytes, getsizeof=lambda entry: entry[1])
        self._revisions: LRUCache[str, str] = LRUCache(MAX_REVISIONS)  # article id -> revision last rendered
        self._lock = threading.Lock()  # cachetools' caches are not thread-safe

    def render(self, raw: dict[bytes, bytes], body: bytes | None, owner: str, key_id: str | None) -> Rendered | None:
        """The ETag and body of the article hash ``raw`` (its claims document ``body``) for the caller
        ``owner`` holding ``key_id``; None when the caller may not see it or it has no claims left."""
        expires = self.links.expiry()
        revision = raw.get(_REVISION)
        if revision is not None:
            key = _memo_key(owner, key_id, expires, body is not None, raw.get(_ID, b"").decode(), revision.decode())
        else:
            key = (owner, key_id, expires, body is not None, *raw.items())
        with self._lock:
            kept = self._memo.get(key)
        if kept is not None:  # not held again here: two callers would take turns forgetting it (see held)
            return kept[0]
        article, result = seen_by(raw, body, owner)
        if article is None or (article.status == DONE and result is None):  # 404
            return None
        made = article_body(article, result, self.links.link(article.id, key_id, expires=expires))
        rendered = (entity_tag(made), made)
        weight = len(made) + sum(len(k) + len(v) for k, v in raw.items())  # at most what the entry holds
        if weight <= self._memo.maxsize:
            with self._lock:
                self._memo[key] = (rendered, weight)
                if revision is not None:
                    self._revisions[article.id] = revision.decode()
        return rendered

    def revision_of(self, article_id: str) -> str:
        """The revision of ``article_id``'s hash last rendered here; empty when none is kept."""
        with self._lock:
            return self._revisions.get(article_id, "")

    def held(self, article_id: str, revision: str, document: bool, owner: str, key_id: str | None) -> Rendered | None:
        """The body rendered of ``article_id`` at ``revision``, with its document there or not, for the
        caller ``owner`` holding ``key_id``, when it is kept; None when it is not (another caller,
        the next expiry step, or let go): then the article is to be read, and the revision is
        forgotten, so that the gate sends the hash of the next read and it is rendered again.
        Kept, the revision would have every later read of the article answered by Flask."""
        key = _memo_key(owner, key_id, self.links.expiry(), document, article_id, revision)
        with self._lock:
            kept = self._memo.get(key)
            if kept is None and self._revisions.get(article_id) == revision:
                del self._revisions[article_id]
        return kept[0] if kept is not None else None


def _memo_key(
    owner: str, key_id: str | None, expires: int, document: bool, article_id: str, revision: str
) -> tuple[object, ...]:
    """The memo's key of a body made of a hash that has a revision: one definition, so that a body
    rendered is found again by :meth:`RenderedArticles.held`."""
    return (owner, key_id, expires, document, article_id, revision)
