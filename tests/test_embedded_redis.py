"""The private redis-server: loopback only, append-only persistence, clean stop."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis import Redis

from service.embedded_redis import EmbeddedRedis, EmbeddedRedisError, bundled_redis_server, free_port


def test_data_written_before_a_stop_is_there_after_a_restart(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path, executable=bundled_redis_server()) as server:
        client = Redis.from_url(server.url)
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        client.set("claimwire:test", "kept")
        process = server.process
    assert process is not None and process.returncode == 0 and server.process is None
    with EmbeddedRedis(tmp_path, executable=bundled_redis_server()) as again:
        assert Redis.from_url(again.url).get("claimwire:test") == b"kept"


def test_a_port_in_use_is_an_error_with_the_log(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path / "first", executable=bundled_redis_server()) as first:
        with pytest.raises(EmbeddedRedisError, match="log ends"):
            EmbeddedRedis(tmp_path / "second", port=first.port, executable=bundled_redis_server(), start_timeout=5).start()


def test_free_port_is_bindable() -> None:
    assert 1024 <= free_port() <= 65535
