"""The request gate: a keyed read is one Redis round trip, and the checks it merges keep their answers."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis import Redis

from service.access import RATE_LIMIT_PREFIX
from service.app import create_app
from service.config import Config
from service.keys import KEYS_HASH, REQUIRED_FLAG, ApiKeys
from service.request_gate import Limit, RequestGate
from service.claims_document import entity_tag
from service.held_documents import HeldDocuments
from service.store import ETAG_FIELD, article_key, result_key
from support.fixtures_api import SHORT_TEXT
from support.openapi_check import CheckedClient


# What redis-py sends when it opens a connection (the sentinel's, or one a busy pool adds), not per request.
HANDSHAKE = frozenset({"AUTH", "HELLO", "CLIENT", "SELECT"})


@dataclasses.dataclass
class Seen:
    """The commands Redis ran: those clients sent, and those the gate's script ran."""

    sent: list[str]
    scripted: list[str]


def commands_during(redis: Redis, action: Callable[[], object]) -> Seen:
    """What Redis ran while ``action`` ran, from its MONITOR stream (closed by a sentinel ECHO)."""
    sentinel = uuid.uuid4().hex
    seen = Seen([], [])
    with redis.monitor() as monitor:
        action()
        redis.echo(sentinel)
        for entry in monitor.listen():
            if sentinel in entry["command"]:
                break
            if entry["command"].split(" ", 1)[0] in HANDSHAKE:  # a pooled connection being opened
                continue
            (seen.scripted if entry.get("client_type") == "lua" else seen.sent).append(entry["command"])
    return seen


@pytest.fixture
def keyed(config: Config, redis_conn: Redis, work_off) -> Iterator[tuple[CheckedClient, dict[str, str], str]]:
    """A client of the API with a rate limit, its API key's header, and a done article of that key."""
    _, token = ApiKeys(redis_conn).create("cms")
    app = create_app(dataclasses.replace(config, rate_limit="1000/minute"))
    app.test_client_class = CheckedClient
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    article_id = client.post("/v1/articles", json={"text": SHORT_TEXT}, headers=auth).get_json()["id"]
    work_off()
    assert client.get(f"/v1/articles/{article_id}", headers=auth).get_json()["status"] == "done"
    yield client, auth, article_id


@pytest.mark.parametrize("suffix", ["", "/claims", "/claims?limit=1", "/claims?min_checkworthiness=0.5"])
def test_a_keyed_read_of_a_done_article_is_one_script_call(keyed, redis_conn, suffix):
    client, auth, article_id = keyed
    responses = []
    seen = commands_during(redis_conn, lambda: responses.append(client.get(f"/v1/articles/{article_id}{suffix}", headers=auth)))
    assert responses[0].status_code == 200 and responses[0].headers["X-RateLimit-Remaining"]
    assert [command.split()[0] for command in seen.sent] == ["EVALSHA"]
    assert any(result_key(article_id) in command for command in seen.scripted)


def test_if_none_match_is_answered_304_without_reading_the_claims_document(keyed, redis_conn):
    client, auth, article_id = keyed
    etag = client.get(f"/v1/articles/{article_id}/claims", headers=auth).headers["ETag"]
    responses = []
    seen = commands_during(
        redis_conn,
        lambda: responses.append(client.get(f"/v1/articles/{article_id}/claims", headers={**auth, "If-None-Match": etag})),
    )
    assert responses[0].status_code == 304 and responses[0].headers["ETag"] == etag
    assert [command.split()[0] for command in seen.sent] == ["EVALSHA"]
    assert not any(result_key(article_id) in command for command in seen.scripted)


def test_a_read_is_served_uncounted_while_redis_refuses_writes(keyed, redis_conn):
    client, auth, article_id = keyed
    counted = [key for key in redis_conn.scan_iter(match=f"{RATE_LIMIT_PREFIX}*")]
    assert len(counted) == 1
    before = redis_conn.llen(counted[0])
    maxmemory = redis_conn.config_get("maxmemory")["maxmemory"]
    redis_conn.config_set("maxmemory", 1)
    try:
        response = client.get(f"/v1/articles/{article_id}/claims", headers=auth)
    finally:
        redis_conn.config_set("maxmemory", maxmemory)
    assert response.status_code == 200
    assert redis_conn.llen(counted[0]) == before


def test_the_window_resets_when_its_oldest_request_leaves_it(config: Config, redis_conn):
    app = create_app(dataclasses.replace(config, rate_limit="2/minute"))
    app.test_client_class = CheckedClient
    client = app.test_client()
    started = time.time()
    first = client.get("/v1/articles/" + "0" * 32)
    time.sleep(1.1)
    second = client.get("/v1/articles/" + "0" * 32)
    refused = client.get("/v1/articles/" + "0" * 32)
    assert [first.status_code, second.status_code, refused.status_code] == [404, 404, 429]
    reset = int(first.headers["X-RateLimit-Reset"])
    assert started + 60 <= reset <= time.time() + 61
    assert second.headers["X-RateLimit-Reset"] == first.headers["X-RateLimit-Reset"]  # the oldest is the first
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert 57 <= int(refused.headers["Retry-After"]) <= 60


def read_again(client, auth: dict[str, str], redis_conn: Redis, path: str, first: Any) -> list[list[str]]:
    """Read ``path`` again: the same answer as ``first``; the commands (name, key) the gate's script ran."""
    responses = []
    seen = commands_during(redis_conn, lambda: responses.append(client.get(path, headers=auth)))
    assert responses[0].status_code == 200 and responses[0].data == first.data
    assert responses[0].headers["ETag"] == first.headers["ETag"]
    return [command.split(" ", 2)[:2] for command in seen.scripted]


def test_a_held_document_is_not_sent_again_while_its_etag_holds(keyed, redis_conn):
    client, auth, article_id = keyed
    path = f"/v1/articles/{article_id}/claims"
    scripted = read_again(client, auth, redis_conn, path, client.get(path, headers=auth))
    assert ["EXISTS", result_key(article_id)] in scripted
    assert ["GET", result_key(article_id)] not in scripted


@pytest.mark.parametrize("suffix", ["", "/claims"])
def test_a_changed_document_is_sent_and_served(keyed, redis_conn, suffix):
    client, auth, article_id = keyed
    client.get(f"/v1/articles/{article_id}/claims", headers=auth)  # held from here on
    changed = redis_conn.get(result_key(article_id)) + b" "  # the same JSON, other bytes: another ETag
    redis_conn.set(result_key(article_id), changed, keepttl=True)
    redis_conn.hset(article_key(article_id), ETAG_FIELD, entity_tag(changed))
    response = client.get(f"/v1/articles/{article_id}{suffix}", headers=auth)
    assert response.status_code == 200
    if suffix:
        assert response.data == changed and response.headers["ETag"] == f'"{entity_tag(changed)}"'
    else:
        assert response.get_json()["claims"] == json.loads(changed)["claims"]


@pytest.mark.parametrize("suffix", ["", "/claims"])
def test_a_held_document_gone_from_redis_is_not_served(keyed, redis_conn, suffix):
    client, auth, article_id = keyed
    for held in ("/claims", ""):  # the document held, and the article rendered at its revision
        assert client.get(f"/v1/articles/{article_id}{held}", headers=auth).status_code == 200
    redis_conn.delete(result_key(article_id))  # as when it expires: not a write of the hash
    assert client.get(f"/v1/articles/{article_id}{suffix}", headers=auth).status_code == 404


class LettingGo(HeldDocuments):
    """Held documents that are let go between telling the gate of one and serving it."""

    def body(self, article_id: str, etag: str) -> bytes | None:
        return None


@pytest.mark.parametrize("suffix", ["", "/claims"])
def test_a_document_let_go_after_the_gate_is_read_anew_by_flask_counted_once(keyed, redis_conn, suffix):
    client, auth, article_id = keyed
    first = client.get(f"/v1/articles/{article_id}{suffix}", headers=auth)
    held = client.application.wsgi_app.documents
    letting_go = LettingGo()
    letting_go.hold(article_id, held.etag_of(article_id), b"not served")
    client.application.wsgi_app.documents = letting_go
    responses = []
    seen = commands_during(redis_conn, lambda: responses.append(client.get(f"/v1/articles/{article_id}{suffix}", headers=auth)))
    assert responses[0].status_code == 200 and responses[0].data == first.data
    assert int(responses[0].headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1
    assert [command.split()[0] for command in seen.sent if "EVALSHA" in command] == ["EVALSHA"]  # the gate ran once


@pytest.mark.parametrize("stale", [0, 1, 25])
def test_the_times_that_left_the_window_are_dropped_and_the_oldest_kept_is_the_reset(redis_conn, stale):
    gate = RequestGate(redis_conn, (KEYS_HASH, REQUIRED_FLAG), Limit(), Limit(10, 60))
    now = time.time()
    kept = [now - 30, now - 20, now - 10]  # in the window, oldest first
    redis_conn.lpush("window", *[now - 600 - i for i in range(stale)][::-1], *kept)  # newest at the head
    window = gate.count("window", 1)
    assert window is not None and window.allowed
    assert window.count == len(kept) + 1 and window.oldest == pytest.approx(kept[0])
    assert redis_conn.llen("window") == len(kept) + 1
    assert [float(t) for t in redis_conn.lrange("window", 1, -1)] == pytest.approx(kept[::-1])


def test_a_window_of_only_stale_times_is_emptied_and_the_request_is_its_oldest(redis_conn):
    gate = RequestGate(redis_conn, (KEYS_HASH, REQUIRED_FLAG), Limit(), Limit(2, 60))
    redis_conn.lpush("window", *[time.time() - 600 - i for i in range(25)])
    before = time.time()
    window = gate.count("window", 2)
    assert window is not None and window.allowed and window.count == 2
    assert before - 0.01 <= window.oldest <= time.time() and redis_conn.llen("window") == 2  # Lua keeps 14 digits


def test_an_article_at_the_revision_rendered_here_is_not_sent_again(keyed, redis_conn):
    client, auth, article_id = keyed
    path = f"/v1/articles/{article_id}"
    scripted = read_again(client, auth, redis_conn, path, client.get(path, headers=auth))
    assert ["HGET", article_key(article_id)] in scripted and ["EXISTS", result_key(article_id)] in scripted
    assert not any(name in ("HGETALL", "GET") and key in (article_key(article_id), result_key(article_id)) for name, key in scripted)


def test_an_article_written_since_it_was_rendered_is_read_anew_its_held_document_not(keyed, redis_conn):
    client, auth, article_id = keyed
    path = f"/v1/articles/{article_id}"
    first = client.get(path, headers=auth)
    _, other = ApiKeys(redis_conn).create("other")  # another owner submitting it writes the hash
    client.post("/v1/articles", json={"text": SHORT_TEXT}, headers={"Authorization": f"Bearer {other}"})
    scripted = read_again(client, auth, redis_conn, path, first)  # the owner's view is its own: the same
    assert ["HGETALL", article_key(article_id)] in scripted
    assert ["GET", result_key(article_id)] not in scripted


def test_another_caller_at_the_revision_rendered_here_gets_nothing_of_it_counted_once(keyed, redis_conn):
    client, auth, article_id = keyed
    assert client.get(f"/v1/articles/{article_id}", headers=auth).status_code == 200  # rendered for its owner
    _, other = ApiKeys(redis_conn).create("other")
    response = client.get(f"/v1/articles/{article_id}", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 404
    assert response.headers["X-RateLimit-Remaining"] == "999"  # its first request of 1000/minute, counted once
