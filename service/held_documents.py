"""Claims documents an API process read, kept by article so that Redis need not send them again.

Both hot reads carry an article's claims document, about 10 kB for a long article: the
request gate's script read it from Redis and sent it over the socket on every request,
which cost Redis and the API process more CPU than the rest of the read. A document is
immutable under its strong ETag (a digest of its bytes, :func:`service.claims_document.entity_tag`),
so a process that holds the document of an article tells the gate the ETag it holds
(:attr:`service.request_gate.Read.held`); while the article's ETag is still that one and
the document still exists, the script answers :data:`service.request_gate.HELD` in its
place and the process serves the bytes it holds. Everything else the read checks (the
key, the limits, the owner, the status) is still checked by the gate on every request.

The memo is bounded in bytes, least recently used out, so that an API process stays small.
"""

from __future__ import annotations

import threading

from cachetools import LRUCache

MAX_BYTES = 4 * 1024 * 1024  # per API process


class HeldDocuments:
    """The latest claims document read per article: its ETag and bytes."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._memo: LRUCache[str, tuple[str, bytes]] = LRUCache(max_bytes, getsizeof=lambda entry: len(entry[1]))
        self._lock = threading.Lock()  # cachetools' caches are not thread-safe

    def etag_of(self, article_id: str) -> str:
        """The ETag of the document held for ``article_id``; empty when none is."""
        with self._lock:
            held = self._memo.get(article_id)
        return held[0] if held is not None else ""

    def body(self, article_id: str, etag: str) -> bytes | None:
        """The document of ``article_id`` whose ETag is ``etag``, when it is held (it may have been
        let go since the gate was told of it)."""
        with self._lock:
            held = self._memo.get(article_id)
        return held[1] if held is not None and held[0] == etag else None

    def hold(self, article_id: str, etag: str, body: bytes) -> None:
        """Keep ``body``, the document of ``article_id`` under ``etag``, unless it alone exceeds the bound."""
        if len(body) <= self._memo.maxsize:
            with self._lock:
                self._memo[article_id] = (etag, body)
