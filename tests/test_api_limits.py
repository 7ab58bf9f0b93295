"""Bounded work: rate limits, input limits, back-pressure; a rejected request stores nothing."""

from __future__ import annotations

import dataclasses
import json

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis import Redis

from service.access import RATE_LIMIT_PREFIX
from service.app import create_app
from service.config import Config
from service.keys import ApiKeys
from service.submission import MAX_JSON_DEPTH
from support.fixtures_api import SHORT_TEXT
from support.openapi_check import CheckedClient

PROBLEM = "application/problem+json"


def stored_keys(redis: Redis) -> list[bytes]:
    """What the service stored, apart from the rate-limit counters every request updates."""
    return [k for k in redis.scan_iter(match="claimwire:*") if not k.startswith(RATE_LIMIT_PREFIX.encode())]


def client_for(config: Config, **changes: object) -> CheckedClient:
    app: Flask = create_app(dataclasses.replace(config, **changes))
    app.test_client_class = CheckedClient
    return app.test_client()


def nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_requests_over_the_rate_limit_are_429_with_retry_after(config: Config, redis_conn):
    client = client_for(config, rate_limit="3/minute")
    remaining = []
    for _ in range(3):
        response = client.get("/v1/articles/" + "0" * 32)
        assert response.status_code == 404
        assert response.headers["X-RateLimit-Limit"] == "3"
        remaining.append(response.headers["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    response = client.post("/v1/articles", json={"text": SHORT_TEXT})
    assert response.status_code == 429
    assert response.mimetype == PROBLEM
    assert response.get_json()["type"] == "/problems/rate-limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert stored_keys(redis_conn) == []
    assert client.get("/healthz").status_code == 200  # probes are not limited


def test_each_api_key_has_its_own_budget(config: Config, redis_conn):
    keys = ApiKeys(redis_conn)
    _, alice = keys.create("alice")
    _, bob = keys.create("bob")
    client = client_for(config, rate_limit="2/minute")
    path = "/v1/articles/" + "0" * 32
    statuses = [client.get(path, headers={"Authorization": f"Bearer {alice}"}).status_code for _ in range(3)]
    assert statuses == [404, 404, 429]
    assert client.get(path, headers={"Authorization": f"Bearer {bob}"}).status_code == 404


def test_a_text_over_the_limit_is_422_and_nothing_is_stored(config: Config, redis_conn):
    client = client_for(config, max_text_chars=100)
    response = client.post("/v1/articles", json={"text": "word " * 21})
    assert response.status_code == 422
    assert "text" in response.get_json()["errors"]
    assert client.post("/v1/articles", json={"text": "word " * 20}).status_code == 202


def test_json_nested_deeper_than_the_limit_is_400_and_nothing_is_stored(client, redis_conn):
    ok = client.post("/v1/articles", json={"text": SHORT_TEXT, "metadata": {"a": nested(MAX_JSON_DEPTH - 2)}})
    assert ok.status_code == 202
    redis_conn.flushdb()
    deep = client.post("/v1/articles", json={"text": SHORT_TEXT, "metadata": {"a": nested(MAX_JSON_DEPTH - 1)}})
    assert deep.status_code == 400
    assert deep.get_json()["type"] == "/problems/malformed-body"
    very_deep = client.post("/v1/articles", data="[" * 100_000, content_type="application/json")
    assert very_deep.status_code == 400
    assert stored_keys(redis_conn) == []


def test_headers_over_the_limit_are_431(config: Config, redis_conn):
    client = client_for(config, max_header_bytes=2_000)
    response = client.post("/v1/articles", json={"text": SHORT_TEXT}, headers={"X-Padding": "x" * 2_000})
    assert response.status_code == 431
    assert response.mimetype == PROBLEM
    assert stored_keys(redis_conn) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300), content_type=st.sampled_from(["application/json", "text/plain", "text/plain; charset=utf-16", "application/octet-stream"]))
def test_binary_garbage_is_a_4xx_problem_never_a_5xx(client, redis_conn, body, content_type):
    redis_conn.flushdb()
    response = client.post("/v1/articles", data=body, content_type=content_type)
    assert response.status_code in (202, 400, 415, 422), response.get_data()
    if response.status_code != 202:
        assert response.mimetype == PROBLEM
        assert stored_keys(redis_conn) == []


def test_a_full_queue_is_503_with_retry_after_and_stores_nothing_new(config: Config, queue, redis_conn):
    client = client_for(config, max_queue_depth=2)
    first = client.post("/v1/articles", json={"text": "First text said so."})
    assert first.status_code == 202
    assert client.post("/v1/articles", json={"text": "Second text said so."}).status_code == 202
    before = sorted(stored_keys(redis_conn))
    full = client.post("/v1/articles", json={"text": "Third text said so."}, headers={"Idempotency-Key": "k3"})
    assert full.status_code == 503
    assert full.get_json()["type"] == "/problems/queue-full"
    assert int(full.headers["Retry-After"]) > 0
    assert sorted(stored_keys(redis_conn)) == before
    assert queue.count == 2
    repeat = client.post("/v1/articles", json={"text": "First text said so."})
    assert repeat.status_code == 202 and repeat.get_json()["id"] == first.get_json()["id"]


def test_metadata_over_8_kib_is_422(client, redis_conn):
    response = client.post("/v1/articles", json={"text": SHORT_TEXT, "metadata": {"blob": "x" * 9_000}})
    assert response.status_code == 422
    assert json.loads(response.get_data())["errors"].keys() == {"metadata"}
    assert stored_keys(redis_conn) == []
