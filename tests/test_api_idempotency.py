"""The Idempotency-Key header of POST /v1/articles and /v1/extract."""

from __future__ import annotations

import dataclasses

import pytest

from service.app import create_app
from service.store import article_key
from support.fixtures_api import SHORT_TEXT, broken_published_at
from support.openapi_check import CheckedClient

BODY = {"text": SHORT_TEXT, "published_at": "2024-01-01T00:00:00Z"}


def post(client, body=BODY, key="order-42"):
    return client.post("/v1/articles", json=body, headers={"Idempotency-Key": key})


def test_a_repeated_request_answers_the_same_article_and_queues_once(client, queue):
    first, second = post(client), post(client)
    assert first.status_code == second.status_code == 202
    assert first.get_json()["id"] == second.get_json()["id"]
    assert queue.count == 1


def test_a_quoted_key_is_the_same_key(client, queue):
    post(client, key="abc")
    other_body = {**BODY, "title": "changed"}
    assert post(client, other_body, key='"abc"').status_code == 422


def test_the_same_key_with_another_body_is_422(client, queue, redis_conn):
    post(client)
    response = post(client, {**BODY, "title": "Another request"})
    assert response.status_code == 422
    assert response.get_json()["type"] == "/problems/idempotency-key-reused"
    assert queue.count == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "tab\there", "é"])
def test_a_malformed_key_is_400(client, key, queue):
    response = client.post(
        "/v1/articles", json=BODY, headers=[("Idempotency-Key", key.encode("utf-8").decode("latin-1"))]
    )
    assert response.status_code == 400
    assert response.get_json()["type"] == "/problems/invalid-idempotency-key"
    assert queue.count == 0


def test_a_repeat_does_not_requeue_a_failed_article_but_a_new_request_does(client, work_off, redis_conn, queue):
    """An article given up after transient failures: a new request queues it again, a repeat does not."""
    article_id = post(client).get_json()["id"]
    with broken_published_at(redis_conn, article_id):
        work_off()
    redis_conn.hdel(article_key(article_id), "failure")  # as if it had failed for a transient reason
    replay = post(client)
    assert replay.status_code == 200
    assert replay.get_json()["status"] == "failed" and replay.get_json()["problem"]
    assert queue.count == 0
    fresh = post(client, key="order-43")
    assert fresh.status_code == 202 and fresh.get_json()["status"] == "queued"
    assert queue.count == 1


def test_a_repeat_after_delete_submits_again(client, queue):
    article_id = post(client).get_json()["id"]
    client.delete(f"/v1/articles/{article_id}")
    again = post(client)
    assert again.status_code == 202 and again.get_json()["id"] == article_id
    assert client.get(f"/v1/articles/{article_id}").status_code == 200


def test_extract_honours_the_key_too(config):
    app = create_app(dataclasses.replace(config, extract_wait=0.1))
    app.test_client_class = CheckedClient
    client = app.test_client()
    first = client.post("/v1/extract", json=BODY, headers={"Idempotency-Key": "k"})
    response = client.post("/v1/extract", json={**BODY, "title": "x"}, headers={"Idempotency-Key": "k"})
    assert first.status_code == 202
    assert response.status_code == 422
