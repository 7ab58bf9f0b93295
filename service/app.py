"""The Flask application factory.

``create_app()`` reads the configuration from the environment, connects to Redis,
bounds every request (headers, body), identifies its caller (API key), applies the
rate limits, registers one blueprint per resource and makes every error an RFC 9457
problem. The order of the hooks is the order of the checks. In front of it all, the
plain claims read is answered below Flask (:mod:`service.hot_reads`).
"""

from __future__ import annotations

import logging

from flask import Flask, Response
from marshmallow import ValidationError
from redis import Redis
from redis.exceptions import OutOfMemoryError, RedisError
from werkzeug.exceptions import HTTPException

from service.access import init_access
from service import metrics
from service.batches import init_batch_intake
from service.blueprints import articles, batches, extract, health, webhooks
from service.blueprints import metrics as metrics_page
from service.blueprints.docs import register_docs
from service.blueprints.pages import init_pages
from service.config import Config
from service.context import EXTENSION_NAME, Services
from service.problems import (
    STORAGE_UNAVAILABLE,
    VALIDATION,
    ProblemError,
    problem_body,
    problem_response,
)
from service.hot_reads import HotReads
from service.keys import KEYS_HASH, REQUIRED_FLAG, ApiKeys
from service.queueing import ExtractionJobs
from service.ratelimit import init_rate_limits
from service.request_gate import Limit, RequestGate
from service.request_limits import init_request_limits
from service.request_log import init_request_log
from service.store import ArticleStore, connect
from service.view_links import EXTENSION as VIEW_LINKS

log = logging.getLogger(__name__)

RETRY_STORAGE_AFTER_SECONDS = "5"
# Memory comes back as articles expire or are deleted: not within seconds.
RETRY_FULL_STORAGE_AFTER_SECONDS = "60"


def create_app(config: Config | None = None, redis: Redis | None = None) -> Flask:
    """Build the API; ``config`` defaults to the environment, ``redis`` to ``config.redis_url``."""
    config = config or Config.from_env()
    redis = redis or connect(config.redis_url)
    app = Flask(__name__, static_folder=None)
    app.json.sort_keys = False
    app.extensions[EXTENSION_NAME] = ext = Services(
        config=config,
        redis=redis,
        store=ArticleStore(redis, config.result_ttl),
        jobs=ExtractionJobs(redis, config),
        keys=ApiKeys(redis),
        gate=RequestGate(
            redis, (KEYS_HASH, REQUIRED_FLAG), Limit.parse(config.auth_failure_limit), Limit.parse(config.rate_limit)
        ),
    )
    init_request_log(app)
    init_request_limits(app, config)
    init_access(app)
    init_batch_intake(app, config)
    init_rate_limits(app, config)
    for blueprint in (articles.bp, extract.bp, health.bp, metrics_page.bp, webhooks.bp, batches.bp):
        app.register_blueprint(blueprint)
    init_pages(app)
    register_docs(app)
    _register_error_handlers(app)
    app.wsgi_app = HotReads(app.wsgi_app, ext, app.extensions[VIEW_LINKS])  # type: ignore[method-assign]
    return app


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ProblemError)
    def problem(error: ProblemError) -> Response:
        return error.response()

    @app.errorhandler(ValidationError)
    def invalid(error: ValidationError) -> Response:
        body = problem_body(422, VALIDATION, "See `errors` for the messages per field.", errors=error.messages)
        return problem_response(body)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        return problem_response(problem_body(status, detail=error.description), headers)

    @app.errorhandler(OutOfMemoryError)
    def storage_full(error: OutOfMemoryError) -> Response:
        # A refused write is a whole refused transaction: nothing of the request was stored.
        log.error("Redis refuses writes, it is at its maxmemory: %s", error)
        body = problem_body(503, STORAGE_UNAVAILABLE, "The service's storage is full; nothing was stored.")
        return problem_response(body, {"Retry-After": RETRY_FULL_STORAGE_AFTER_SECONDS})

    @app.errorhandler(RedisError)
    def storage_down(error: RedisError) -> Response:
        log.error("Redis error: %s", error)
        metrics.observe_redis_error("api")
        body = problem_body(503, STORAGE_UNAVAILABLE, "The service cannot reach its storage right now.")
        return problem_response(body, {"Retry-After": RETRY_STORAGE_AFTER_SECONDS})

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return problem_response(problem_body(500, detail="An unexpected error occurred; it has been logged."))
