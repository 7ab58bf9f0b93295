"""API keys: open until a key exists, then Bearer keys, each seeing only its own articles."""

from __future__ import annotations

import subprocess

import pytest
from redis import Redis

from service.config import Config
from service.keys import ApiKeys
from support.fixtures_api import SHORT_TEXT, config_env
from support.live_service import claimwire

OTHER_TEXT = "The mayor claimed that the bridge would reopen in May."


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def keys(redis_conn: Redis) -> ApiKeys:
    return ApiKeys(redis_conn)


def test_with_no_key_the_api_is_open(client):
    assert client.post("/v1/articles", json={"text": SHORT_TEXT}).status_code == 202


def test_once_a_key_exists_requests_without_it_are_401_with_a_bearer_challenge(client, keys, redis_conn):
    keys.create("cms")
    response = client.post("/v1/articles", json={"text": SHORT_TEXT})
    assert response.status_code == 401
    assert response.get_json()["type"] == "/problems/unauthorized"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="claimwire"'
    assert not list(redis_conn.scan_iter(match="claimwire:article:*"))


@pytest.mark.parametrize("header", ["Bearer cw_not-a-key", "Basic dXNlcjpwYXNz", "Bearer", "cw_x"])
def test_a_wrong_or_malformed_key_is_401_invalid_token(client, keys, header):
    keys.create("cms")
    response = client.get("/v1/articles/" + "0" * 32, headers={"Authorization": header})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_probes_and_documentation_need_no_key(client, keys):
    keys.create("cms")
    for path in ("/healthz", "/openapi.yaml", "/docs", "/problems/unauthorized"):
        assert client.get(path).status_code == 200, path


def test_a_key_sees_only_the_articles_it_submitted(client, keys):
    _, alice = keys.create("alice")
    _, bob = keys.create("bob")
    article_id = client.post("/v1/articles", json={"text": SHORT_TEXT}, headers=bearer(alice)).get_json()["id"]
    assert client.get(f"/v1/articles/{article_id}", headers=bearer(alice)).status_code == 200
    assert client.get(f"/v1/articles/{article_id}", headers=bearer(bob)).status_code == 404
    assert client.get(f"/v1/articles/{article_id}/claims", headers=bearer(bob)).status_code == 404
    assert client.delete(f"/v1/articles/{article_id}", headers=bearer(bob)).status_code == 404
    assert client.get(f"/v1/articles/{article_id}", headers=bearer(alice)).status_code == 200


def test_the_same_text_from_two_keys_is_one_article_deleted_when_both_let_go(client, keys, queue, redis_conn):
    _, alice = keys.create("alice")
    _, bob = keys.create("bob")
    first = client.post("/v1/articles", json={"text": SHORT_TEXT}, headers=bearer(alice)).get_json()
    second = client.post("/v1/articles", json={"text": SHORT_TEXT}, headers=bearer(bob)).get_json()
    assert first["id"] == second["id"]
    assert queue.count == 1
    path = f"/v1/articles/{first['id']}"
    assert client.delete(path, headers=bearer(alice)).status_code == 204
    assert client.get(path, headers=bearer(alice)).status_code == 404
    assert client.get(path, headers=bearer(bob)).status_code == 200
    assert client.delete(path, headers=bearer(bob)).status_code == 204
    assert not list(redis_conn.scan_iter(match=f"claimwire:*{first['id']}"))


def test_idempotency_keys_of_different_api_keys_do_not_collide(client, keys):
    _, alice = keys.create("alice")
    _, bob = keys.create("bob")
    same = {"Idempotency-Key": "order-1"}
    assert client.post("/v1/articles", json={"text": SHORT_TEXT}, headers={**bearer(alice), **same}).status_code == 202
    response = client.post("/v1/articles", json={"text": OTHER_TEXT}, headers={**bearer(bob), **same})
    assert response.status_code == 202


def test_a_revoked_key_stops_working_at_once(client, keys):
    key, token = keys.create("cms")
    keys.create("other")  # keys remain configured after the revocation
    assert client.post("/v1/articles", json={"text": SHORT_TEXT}, headers=bearer(token)).status_code == 202
    assert keys.revoke(key.id)
    assert client.post("/v1/articles", json={"text": SHORT_TEXT}, headers=bearer(token)).status_code == 401
    assert not keys.revoke(key.id)


def test_redis_never_holds_the_key_itself(keys, redis_conn):
    _, token = keys.create("cms")
    for name in redis_conn.scan_iter(match="claimwire:*"):
        assert token.encode() not in name
        kind = redis_conn.type(name)
        values = redis_conn.hvals(name) if kind == b"hash" else [redis_conn.get(name)]
        assert all(token.encode() not in (v or b"") for v in values)


@pytest.mark.slow
def test_keys_cli_creates_lists_and_revokes(config: Config, keys):
    env = config_env(config)
    created = subprocess.run(claimwire("keys", "create", "--name", "newsroom cms"), env=env, capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("cw_") and len(token) > 40
    key_id = keys.identify(token)
    assert key_id is not None
    listed = subprocess.run(claimwire("keys", "list"), env=env, capture_output=True, text=True, timeout=60)
    assert listed.stdout.split("\t")[0] == key_id and "newsroom cms" in listed.stdout and token not in listed.stdout
    revoked = subprocess.run(claimwire("keys", "revoke", key_id), env=env, capture_output=True, text=True, timeout=60)
    assert revoked.returncode == 0 and keys.identify(token) is None
    again = subprocess.run(claimwire("keys", "revoke", key_id), env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "no key" in again.stderr
