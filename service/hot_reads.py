"""The hottest read served below Flask: a done article's unfiltered claims, as stored.

``GET /v1/articles/{id}/claims`` is what a newsroom polls most, and its plain answer (200
with the stored claims document, or 304 when ``If-None-Match`` holds its ETag) needs nothing
but what the request gate's one ``EVALSHA`` returns (:mod:`service.request_gate`). Flask's
request handling costs more CPU than all the rest of such a read, so this WSGI layer
answers it itself, with the functions the Flask hooks use: the gate, the ETag, the
rate-limit headers, the request id, the log line and the metrics.

It answers only the plain case: a ``GET`` of that path, no query string, JSON preferred,
headers clearly within their bound, and a gate that lets the caller through to a document
it can serve as stored. Any other request goes to Flask untouched. A request whose gate
says otherwise (no key, throttled, limited, not done, not the caller's) goes to Flask with
the gate's passage in its environ (:data:`service.access.GATE_PASSAGE`), so the gate runs
once per request and the hooks answer as they always do.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from redis.exceptions import RedisError
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header, parse_etags, quote_etag

from service.access import GATE_PASSAGE, pass_gate
from service.article_reads import as_stored_claims, claims_read
from service.context import Services
from service.logs import log_context
from service.negotiation import JSON, JSONLD, best_of
from service.ratelimit import rate_limit_headers_of
from service.request_gate import OK
from service.request_log import REQUEST_ID_HEADER, record_request, request_id_for

CLAIMS_PATH = re.compile(r"/v1/articles/([0-9a-f]{32})/claims")
CLAIMS_ROUTE = "/v1/articles/{article_id}/claims"
# Per header, the ": " and CRLF; the environ's names carry ``HTTP_`` besides: an upper bound.
HEADER_OVERHEAD = 4

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class HotReads:
    """WSGI middleware in front of the Flask app (``app.wsgi_app``) answering the plain claims read."""

    def __init__(self, app: WsgiApp, services: Services) -> None:
        self.app = app
        self.services = services

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        match = CLAIMS_PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None or environ["REQUEST_METHOD"] != "GET" or environ.get("QUERY_STRING") or not self._plain(environ):
            return self.app(environ, start_response)
        article_id = match.group(1)
        read = claims_read(article_id, parse_etags(environ.get("HTTP_IF_NONE_MATCH")))
        address = environ.get("REMOTE_ADDR") or "unknown"
        try:
            passage = pass_gate(self.services.gate, address, environ.get("HTTP_AUTHORIZATION"), 1, read)
        except RedisError:  # Flask tries again and answers the outage as it does
            return self.app(environ, start_response)
        stored = as_stored_claims(passage.read) if passage.outcome == OK else None
        if stored is None:
            environ[GATE_PASSAGE] = (read, passage)
            return self.app(environ, start_response)
        headers = [("ETag", quote_etag(stored.etag)), ("Vary", "Accept")]
        if passage.rate is not None:
            headers += rate_limit_headers_of(passage.rate, self.services.gate.rate)
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID"))
        headers.append((REQUEST_ID_HEADER, request_id))
        if stored.result is None:
            status, body = 304, b""
            start_response("304 NOT MODIFIED", headers)
        else:
            status, body = 200, stored.result.body
            start_response("200 OK", [("Content-Type", JSON), ("Content-Length", str(len(body))), *headers])
        with log_context(request_id, article_id):
            record_request("GET", CLAIMS_ROUTE, environ["PATH_INFO"], status, time.perf_counter() - started, article_id)
        return [body]

    def _plain(self, environ: dict[str, Any]) -> bool:
        """JSON is wanted, and the headers are within their bound by a margin that needs no exact count."""
        accept = parse_accept_header(environ.get("HTTP_ACCEPT"), MIMEAccept)
        if best_of(accept, JSON, JSONLD) != JSON:
            return False
        size = sum(len(k) + len(v) + HEADER_OVERHEAD for k, v in environ.items() if k.startswith("HTTP_"))
        size += sum(len(environ.get(k) or "") + len(k) + HEADER_OVERHEAD for k in ("CONTENT_TYPE", "CONTENT_LENGTH"))
        return size <= self.services.config.max_header_bytes
