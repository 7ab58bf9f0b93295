"""The per-app objects every request needs, kept on ``app.extensions``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Request, current_app, request
from redis import Redis

from service.config import Config
from service.keys import ApiKeys
from service.queueing import ExtractionJobs
from service.request_gate import RequestGate
from service.store import ArticleStore

EXTENSION_NAME = "claimwire"


@dataclass(frozen=True, slots=True)
class Services:
    """Configuration, the Redis client, the article store, the extraction jobs, the API keys
    and the request gate (key check, failed-authentication throttle, rate limit)."""

    config: Config
    redis: Redis
    store: ArticleStore
    jobs: ExtractionJobs
    keys: ApiKeys
    gate: RequestGate


def services() -> Services:
    """The current app's :class:`Services` (inside a request or app context)."""
    return current_app.extensions[EXTENSION_NAME]


def current_request() -> Request:
    """The request being served, itself: a hook that reads it often pays one context lookup,
    not one per attribute read through Flask's ``request`` proxy."""
    return request._get_current_object()  # type: ignore[attr-defined]
