"""/healthz (the process answers) and /readyz (accepted work would get done, and by whom)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from redis.exceptions import RedisError

from service.access import access_mode
from service.context import services
from service.problems import NOT_READY, ProblemError
from workers.liveness import count_live_workers

bp = Blueprint("health", __name__)

RETRY_READY_AFTER_SECONDS = "5"


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """200 when Redis answers and at least one worker is alive, else a 503 problem.

    ``access`` says whether the API needs an API key (``api-keys``) or is ``open``.
    """
    ext = services()
    try:
        ext.redis.ping()
    except RedisError as exc:
        raise _not_ready(f"Redis is unreachable: {exc}", redis="unreachable", workers=0) from None
    workers = count_live_workers(ext.redis, ext.config.queue_name, ext.config.stale_after)
    if workers == 0:
        raise _not_ready(f"No live worker listens on the queue {ext.config.queue_name!r}.", redis="ok", workers=0)
    return jsonify(
        {
            "status": "ready",
            "checks": {"redis": "ok", "workers": workers},
            "queued": ext.jobs.queue.count,
            "access": access_mode(),
        }
    )


def _not_ready(detail: str, **checks: object) -> ProblemError:
    return ProblemError(
        503,
        NOT_READY,
        detail,
        headers={"Retry-After": RETRY_READY_AFTER_SECONDS},
        extensions={"checks": checks},
    )
