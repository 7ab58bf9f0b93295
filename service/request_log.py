"""Request ids and the one JSON log line per request.

The request id comes from a well-formed ``X-Request-ID`` or is generated; it is returned
in the response, set for the log lines written while the request runs (see
:mod:`service.logs`) and stored in the meta of the extraction job the request queues, so
the worker's lines carry it too. The log line has the route template, never the query
string (a view link's signature, a claimant filter) nor any header or body.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from functools import lru_cache

from flask import Flask, Response, g

from service import metrics
from service.context import current_request
from service.logs import article_id_var, request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
UNMATCHED_ROUTE = "(unmatched)"
_ARTICLE_LOCATION = re.compile(r"^/v1/articles/([0-9a-f]{32})$")
_RULE_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

log = logging.getLogger("claimwire.request")


def init_request_log(app: Flask) -> None:
    """Register the hooks first, so that the timing covers the other checks too."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.teardown_request(_forget)


def current_request_id() -> str | None:
    """The id of the request being served in this context, if any."""
    return request_id_var.get()


@lru_cache(maxsize=256)
def route_template(rule: str) -> str:
    """A Flask rule in the spec's spelling: ``/v1/articles/<article_id>`` -> ``/v1/articles/{article_id}``
    (once per rule: the app has a few dozen)."""
    return _RULE_VARIABLE.sub(r"{\1}", rule)


def request_id_for(given: str | None) -> str:
    """The request's id: a well-formed ``X-Request-ID`` as given, else a new one."""
    return given if given and REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _start() -> None:
    req = current_request()
    request_id = request_id_for(req.headers.get(REQUEST_ID_HEADER))
    g.request_id = request_id
    g.request_started = time.perf_counter()
    g.request_tokens = (request_id_var.set(request_id), article_id_var.set((req.view_args or {}).get("article_id")))


def _finish(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is None:  # a response made before the first hook ran
        return response
    req = current_request()
    headers = response.headers
    headers[REQUEST_ID_HEADER] = request_id
    seconds = time.perf_counter() - g.request_started
    route = route_template(req.url_rule.rule) if req.url_rule is not None else UNMATCHED_ROUTE
    location = headers.get("Location") or headers.get("Content-Location")
    located = _ARTICLE_LOCATION.search(location) if location else None
    # A submission's article id is known once answered: one grep finds the POST too.
    article_id = article_id_var.get() or (located.group(1) if located else None)
    record_request(req.method, route, req.path, response.status_code, seconds, article_id)
    return response


def record_request(method: str, route: str, path: str, status: int, seconds: float, article_id: str | None) -> None:
    """Count the request in the metrics and write its log line."""
    metrics.observe_request(method, route, status, seconds)
    log.info(
        "%s %s %d",
        method,
        route,
        status,
        extra={
            "method": method,
            "route": route,
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "article_id": article_id,
        },
    )


def _forget(_error: BaseException | None) -> None:
    tokens = g.pop("request_tokens", None)
    if tokens is not None:
        request_id_var.reset(tokens[0])
        article_id_var.reset(tokens[1])
