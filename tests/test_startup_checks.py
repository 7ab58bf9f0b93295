"""The start-up check of Redis persistence, and the open-API warning, on a Redis of their own."""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from service.embedded_redis import EmbeddedRedis, bundled_redis_server
from service.keys import ApiKeys
from service.startup_checks import PersistenceError, announce_access, check_persistence, persistence_problems
from support.live_service import claimwire
from support.ports import server_port
from support.waiting import poll

WORKER_TIMEOUT = 120.0  # a safety net for a worker's start on a busy machine


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, Redis]]:
    """A private server whose configuration the test may change (it runs with AOF, noeviction)."""
    with EmbeddedRedis(tmp_path / "redis", executable=bundled_redis_server()) as server:
        conn = Redis.from_url(server.url)
        yield server.url, conn
        conn.close()


def test_aof_with_noeviction_passes(own_redis):
    _, conn = own_redis
    assert persistence_problems(conn) == []


def test_no_aof_and_eviction_are_reported_and_refused_on_request(own_redis, caplog):
    _, conn = own_redis
    conn.config_set("appendonly", "no")
    conn.config_set("maxmemory-policy", "allkeys-lru")
    problems = persistence_problems(conn)
    assert len(problems) == 2
    assert any("appendonly no" in p for p in problems) and any("allkeys-lru" in p for p in problems)
    with caplog.at_level(logging.WARNING, logger="claimwire.startup"):
        check_persistence(conn, "warn")
    assert "allkeys-lru" in caplog.text
    with pytest.raises(PersistenceError, match="appendonly"):
        check_persistence(conn, "refuse")
    check_persistence(conn, "off")


@pytest.mark.slow
def test_the_worker_command_refuses_to_start_on_a_redis_that_evicts(own_redis):
    url, conn = own_redis
    conn.config_set("maxmemory-policy", "volatile-lru")
    env = {"REDIS_URL": url, "CLAIMWIRE_REDIS_CHECK": "refuse", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(claimwire("worker", "--burst"), env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "maxmemory-policy volatile-lru" in done.stderr


@pytest.mark.slow
def test_a_worker_started_before_its_redis_checks_it_once_it_answers(tmp_path: Path) -> None:
    """Redis is started only once the worker has said it waits for it: no race on who comes first."""
    port = server_port()
    env = {"REDIS_URL": f"redis://127.0.0.1:{port}/0", "CLAIMWIRE_REDIS_CHECK": "refuse", "PATH": "/usr/bin:/bin"}
    worker = subprocess.Popen(claimwire("worker", "--burst"), env=env, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(worker.stderr), daemon=True)
    reader.start()
    try:
        poll(lambda: "waiting up to" in "".join(lines), bool, WORKER_TIMEOUT, "the worker to wait for Redis", worker)
        server = subprocess.Popen(
            [bundled_redis_server(), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
             "--maxmemory-policy", "volatile-lru"],
            cwd=tmp_path, stdout=subprocess.DEVNULL,
        )
        try:
            worker.wait(WORKER_TIMEOUT)
            reader.join(WORKER_TIMEOUT)
        finally:
            server.terminate()
            server.wait(15)
    finally:
        worker.kill()
    assert worker.returncode == 1
    assert "maxmemory-policy volatile-lru" in "".join(lines)


def test_the_open_api_is_announced_as_such(own_redis, caplog):
    _, conn = own_redis
    with caplog.at_level(logging.INFO, logger="claimwire.startup"):
        announce_access(conn)
    assert "OPEN" in caplog.text
    caplog.clear()
    ApiKeys(conn).create("cms")
    with caplog.at_level(logging.INFO, logger="claimwire.startup"):
        announce_access(conn)
    assert "API keys are configured" in caplog.text
