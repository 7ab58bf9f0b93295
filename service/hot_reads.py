"""The two hottest reads served below Flask, an article's claims and the article itself, and the
resubmission of an article already extracted (:mod:`service.hot_resubmissions`), which reads too.

A newsroom polls ``GET /v1/articles/{id}`` and ``GET /v1/articles/{id}/claims`` most. Their
plain answers (200 with the article, or the stored claims document; 304 when
``If-None-Match`` holds the ETag) need nothing but what the request gate's one ``EVALSHA``
returns (:mod:`service.request_gate`). Flask's request handling costs more CPU than all the
rest of such a read, so this WSGI layer answers them itself, with the functions the Flask
views and hooks use: the gate, the article's JSON, the ETag, the rate-limit headers, the
request id, the log line and the metrics.

It answers only the plain case: a ``GET`` of one of the two paths, no query string, JSON
preferred, headers clearly within their bound, and a gate that lets the caller through to
an article it sees (for the claims, one whose document can be served as stored). Any other
request goes to Flask untouched. A request whose gate says otherwise (no key, throttled,
limited, not done, not the caller's) goes to Flask with the gate's passage in its environ
(:data:`service.access.GATE_PASSAGE`), so the gate runs once per request and Flask answers
as it always does.

Each process holds the claims documents it read (:mod:`service.held_documents`) and tells the
gate which one it holds, so that Redis does not send a document again while its ETag holds.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from redis.exceptions import RedisError
from werkzeug.datastructures import ETags
from werkzeug.http import parse_etags, quote_etag
from werkzeug.wrappers import Request

from service.access import GATE_PASSAGE, Caller, pass_gate
from service.article_reads import (
    ARTICLE_ID, article_read, as_article_and_body, as_stored_claims, claims_read, is_held_article, with_held_document,
)
from service.context import Services
from service.held_documents import HeldDocuments
from service.hot_resubmissions import ACCEPTED, AcceptedBodies, digest_of, is_resubmission_shape
from service.logs import log_context
from service.negotiation import HTML, JSON, JSONLD, best_for_header
from service.problems import ProblemError
from service.ratelimit import rate_limit_headers_of
from service.rendered_articles import RenderedArticles
from service.representations import ARTICLES_PATH, article_path
from service.request_gate import OK, Passage, Read
from service.request_limits import HEADER_OVERHEAD, PRE_READ, read_body
from service.request_log import REQUEST_ID_HEADER, record_request, request_id_for
from service.store import holds_done
from service.view_links import ViewLinks

ARTICLE_PATH = re.compile(rf"{ARTICLES_PATH}/({ARTICLE_ID.pattern})(/claims)?")
ARTICLE_ROUTE, CLAIMS_ROUTE = f"{ARTICLES_PATH}/{{article_id}}", f"{ARTICLES_PATH}/{{article_id}}/claims"

STATUS_LINES = {200: "200 OK", 304: "304 NOT MODIFIED"}

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class HotReads:
    """WSGI middleware in front of the Flask app (``app.wsgi_app``) answering the plain reads."""

    def __init__(self, app: WsgiApp, services: Services, links: ViewLinks) -> None:
        self.app = app
        self.services = services
        self.articles = RenderedArticles(links)
        self.accepted = AcceptedBodies()
        self.documents = HeldDocuments()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        path = environ.get("PATH_INFO", "")
        if path == ARTICLES_PATH and environ["REQUEST_METHOD"] == "POST":
            if not is_resubmission_shape(environ) or not self._plain(environ, (JSON,)):
                return self.app(environ, start_response)
            return self._resubmission(environ, start_response, started)
        match = ARTICLE_PATH.fullmatch(path)
        if match is None or environ["REQUEST_METHOD"] != "GET" or environ.get("QUERY_STRING"):
            return self.app(environ, start_response)
        article_id, claims = match.group(1), match.group(2) is not None
        if not self._plain(environ, (JSON, JSONLD) if claims else (JSON, JSONLD, HTML)):
            return self.app(environ, start_response)
        tags = parse_etags(environ.get("HTTP_IF_NONE_MATCH"))
        held = self.documents.etag_of(article_id)
        read = claims_read(article_id, tags, held) if claims else article_read(article_id, held, self.articles.revision_of(article_id))
        address = environ.get("REMOTE_ADDR") or "unknown"
        try:
            passage = self._pass_gate(environ, address, read, article_id)
        except RedisError:  # Flask tries again and answers the outage as it does
            return self.app(environ, start_response)
        answer = None
        if passage is not None and passage.outcome == OK:
            answer = _stored_claims(passage) if claims else self._article(read, article_id, passage, Caller(passage.key_id, address), tags)
        if answer is None:
            return self.app(environ, start_response)
        etag, body = answer
        headers = [("ETag", quote_etag(etag)), ("Vary", "Accept")]
        route = CLAIMS_ROUTE if claims else ARTICLE_ROUTE
        if body is None:
            return self._respond(environ, start_response, started, (304, route, article_id), headers, b"", passage)
        headers = [("Content-Type", JSON), ("Content-Length", str(len(body))), *headers]
        return self._respond(environ, start_response, started, (200, route, article_id), headers, body, passage)

    def _resubmission(self, environ: dict[str, Any], start_response: Callable[..., Any], started: float) -> Iterable[bytes]:
        """``POST /v1/articles`` of a body this process accepted before, for an article the caller
        holds, done: the article, as Flask's submission answers it (see :mod:`service.hot_resubmissions`).

        The body of a request with credentials is read before the gate runs, so that the gate's
        one round trip reads the article too (within the same size and time bounds as any body);
        a problem reading it is left for Flask to raise after its own gate, so that a wrong key
        still answers first."""
        try:
            body = read_body(Request(environ), self.services.config)
        except ProblemError as problem:
            environ[PRE_READ] = problem
            return self.app(environ, start_response)
        environ[PRE_READ] = body
        digest = digest_of(body)
        environ[ACCEPTED] = (self.accepted, digest)
        article_id = self.accepted.article_of(digest)
        if article_id is None:
            return self.app(environ, start_response)
        address = environ.get("REMOTE_ADDR") or "unknown"
        read = article_read(article_id, self.documents.etag_of(article_id))
        try:
            passage = self._pass_gate(environ, address, read, article_id)
        except RedisError:
            return self.app(environ, start_response)
        if passage is None or passage.outcome != OK:
            return self.app(environ, start_response)
        owner = Caller(passage.key_id, address).owner
        raw, document = as_article_and_body(passage.read)
        held = holds_done(raw, document, owner)
        rendered = self.articles.render(raw, document, owner, passage.key_id) if held else None
        if rendered is None:  # not done, not held, or gone: Flask submits it
            return self.app(environ, start_response)
        content = rendered[1]
        headers = [("Content-Type", JSON), ("Content-Length", str(len(content))), ("Content-Location", article_path(article_id)),
                   ("Vary", "Accept")]
        return self._respond(environ, start_response, started, (200, ARTICLES_PATH, article_id), headers, content, passage)

    def _pass_gate(self, environ: dict[str, Any], address: str, read: Read, article_id: str) -> Passage | None:
        """The request gate's passage with ``read`` made, its document taken from (or held in)
        :attr:`documents`, and handed to Flask in the environ should Flask answer the request.

        None when the gate did not send a document that is no longer held: Flask answers,
        handed the passage without the read, so that it reads the article anew."""
        passage = pass_gate(self.services.gate, address, environ.get("HTTP_AUTHORIZATION"), 1, read)
        if passage.outcome == OK:
            values = with_held_document(read, passage.read, article_id, self.documents)
            if values is None:
                environ[GATE_PASSAGE] = (None, passage)
                return None
            passage = replace(passage, read=values)
        # Flask, should it answer, reads the article itself when the gate did not send the hash.
        environ[GATE_PASSAGE] = (None if is_held_article(passage.read) else read, passage)
        return passage

    def _respond(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        started: float,
        what: tuple[int, str, str],
        headers: list[tuple[str, str]],
        body: bytes,
        passage: Passage,
    ) -> Iterable[bytes]:
        """Answer ``what`` (status, route, article id) with ``headers`` and ``body``, adding what
        Flask's hooks add (rate-limit headers, request id) and writing the request's log line."""
        status, route, article_id = what
        if passage.rate is not None:
            headers += rate_limit_headers_of(passage.rate, self.services.gate.rate)
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID"))
        headers.append((REQUEST_ID_HEADER, request_id))
        start_response(STATUS_LINES[status], headers)
        with log_context(request_id, article_id):
            record_request(environ["REQUEST_METHOD"], route, environ["PATH_INFO"], status, time.perf_counter() - started, article_id)
        return [body]

    def _article(
        self, read: Read, article_id: str, passage: Passage, caller: Caller, tags: ETags
    ) -> tuple[str, bytes | None] | None:
        """The article's ETag and JSON (None for a 304) as ``caller`` sees it, when it sees it."""
        if is_held_article(passage.read):  # the revision rendered here: rendered for this caller, or read anew
            rendered = self.articles.held(article_id, read.revision, passage.read[1] == 1, caller.owner, caller.key_id)
        else:
            rendered = self.articles.render(*as_article_and_body(passage.read), caller.owner, caller.key_id)
        if rendered is None:  # Flask says 404, or reads the article anew
            return None
        etag, body = rendered
        return etag, None if tags.contains_weak(etag) else body

    def _plain(self, environ: dict[str, Any], offered: tuple[str, ...]) -> bool:
        """JSON is the best of ``offered`` for the request's ``Accept``, and the headers are within
        their bound by a margin that needs no exact count."""
        if best_for_header(environ.get("HTTP_ACCEPT"), offered) != JSON:
            return False
        # The environ's names carry ``HTTP_`` besides the header's: an upper bound of the headers' size.
        size = sum(len(k) + len(v) + HEADER_OVERHEAD for k, v in environ.items() if k.startswith("HTTP_"))
        size += sum(len(environ.get(k) or "") + len(k) + HEADER_OVERHEAD for k in ("CONTENT_TYPE", "CONTENT_LENGTH"))
        return size <= self.services.config.max_header_bytes


def _stored_claims(passage: Passage) -> tuple[str, bytes | None] | None:
    """The stored claims document's ETag and bytes (None for a 304), when it can be served as stored."""
    stored = as_stored_claims(passage.read)
    if stored is None:
        return None
    return stored.etag, stored.result.body if stored.result is not None else None
