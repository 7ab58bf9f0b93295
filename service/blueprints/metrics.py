"""/metrics: Prometheus text for the whole service, for callers allowed to read it.

Not for the public internet: by default only direct loopback callers may read it
(``CLAIMWIRE_METRICS_ALLOW``), or anyone sending ``Authorization: Bearer
<CLAIMWIRE_METRICS_TOKEN>`` when a token is set. It needs no API key and is not rate
limited, so that a scraper's budget never competes with clients'.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from service import metrics
from service.context import services
from service.problems import METRICS_FORBIDDEN, ProblemError

bp = Blueprint("metrics", __name__)

METRICS_ENDPOINT = "metrics.scrape"
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


@bp.get("/metrics")
def scrape() -> Response:
    config = services().config
    allowed = metrics.caller_may_read(
        request.remote_addr,
        any(h in request.headers for h in PROXY_HEADERS),
        request.headers.get("Authorization"),
        config.metrics_allow,
        config.metrics_token,
    )
    if not allowed:
        raise ProblemError(403, METRICS_FORBIDDEN, "This caller may not read the metrics.")
    response = Response(metrics.exposition(services().jobs.queue), mimetype=None)
    response.headers["Content-Type"] = metrics.CONTENT_TYPE
    response.headers["Cache-Control"] = "no-store"
    return response
