"""The API against an attacker: tenants never see each other's fields, revoking the last
key opens nothing, bodies and connections are bounded, odd input is a 4xx, and failed
authentication is throttled. Each test first does what the attack did, then checks that
it no longer works; where the behaviour lives in gunicorn, over real gunicorn.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import logging
import socket
import subprocess
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from redis import Redis

from support.fixtures_api import SHORT_TEXT, broken_published_at, config_env
from support.fixtures_http import ApiFactory
from support.live_service import claimwire
from support.openapi_check import CheckedClient, check_requests_response
from support.seeds import SEED_TEXT
from support.waiting import poll
from service.app import create_app
from service.config import Config
from service.keys import ApiKeys
from service.startup_checks import announce_access
from service.store import article_key, derive_article_id, events_channel

TIMEOUT = 10.0
# gunicorn's gthread workers served 2 processes x 4 threads; twice that many slow clients.
SLOW_CLIENTS = 16
BUSY_TIMEOUT = 30.0

SECRET_FIELDS = {
    "title": "Leaked plans",
    "url": "https://alice.example/leak",
    "publisher": "Alice Media",
    "metadata": {"secret": 1, "source": "insider"},
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def stored(redis: Redis) -> list[bytes]:
    return list(redis.scan_iter(match="claimwire:article:*"))


def submit(client: CheckedClient, token: str | None, **fields: object) -> dict[str, Any]:
    """POST SHORT_TEXT with ``fields`` as the key ``token`` (None: without a key); the article."""
    response = client.post("/v1/articles", json={"text": SHORT_TEXT, **fields}, headers=bearer(token) if token else {})
    assert response.status_code in (200, 202), response.get_json()
    return response.get_json()


def shown(view: dict[str, Any], names: Iterable[str] = SECRET_FIELDS) -> dict[str, Any]:
    return {name: view[name] for name in names}


def seen_by(client: CheckedClient, token: str, article_id: str) -> dict[str, Any]:
    return client.get(f"/v1/articles/{article_id}", headers=bearer(token)).get_json()


@pytest.fixture
def keys(redis_conn: Redis) -> ApiKeys:
    return ApiKeys(redis_conn)


@pytest.fixture
def alice_and_bob(keys: ApiKeys) -> tuple[str, str]:
    return keys.create("alice")[1], keys.create("bob")[1]


# --- tenants: what a key submits is its own ----------------------------------------------


def test_another_key_submitting_the_same_text_never_gets_the_first_keys_fields(client, alice_and_bob):
    alice, bob = alice_and_bob
    first = submit(client, alice, **SECRET_FIELDS)
    second = submit(client, bob)
    assert second["id"] == first["id"]
    for view in (second, seen_by(client, bob, first["id"])):
        assert shown(view) == dict.fromkeys(SECRET_FIELDS)
        assert "insider" not in json.dumps(view)
    assert shown(seen_by(client, alice, first["id"])) == SECRET_FIELDS


BOBS_FIELDS = {"title": "Bob's copy", "url": "https://bob.example/", "publisher": "Bob", "metadata": {"mine": True}}
FAILED_AT = "2023-03-21T09:00:00Z"


def failed_for_alice(client, alice: str, work_off, redis_conn) -> str:
    """An article Alice submitted with her fields, whose extraction then failed."""
    article_id = submit(client, alice, published_at=FAILED_AT, **SECRET_FIELDS)["id"]
    with broken_published_at(redis_conn, article_id):
        work_off()
    assert seen_by(client, alice, article_id)["status"] == "failed"
    return article_id


def test_a_resubmission_of_a_cached_failure_shows_each_key_its_own_fields(client, alice_and_bob, work_off, redis_conn):
    alice, bob = alice_and_bob
    article_id = failed_for_alice(client, alice, work_off, redis_conn)
    again = submit(client, bob, published_at=FAILED_AT, **BOBS_FIELDS)
    assert again["id"] == article_id and again["status"] == "failed"  # cached, not queued again
    assert shown(again) == BOBS_FIELDS and shown(seen_by(client, alice, article_id)) == SECRET_FIELDS


def test_a_resubmission_after_a_failure_changes_only_the_resubmitting_keys_fields(client, alice_and_bob, work_off, redis_conn):
    alice, bob = alice_and_bob
    article_id = failed_for_alice(client, alice, work_off, redis_conn)
    redis_conn.hdel(article_key(article_id), "failure")  # as if it had failed for a transient reason

    again = submit(client, bob, published_at=FAILED_AT, **BOBS_FIELDS)
    assert again["id"] == article_id and again["status"] == "queued"
    assert shown(seen_by(client, alice, article_id)) == SECRET_FIELDS
    assert shown(seen_by(client, bob, article_id)) == BOBS_FIELDS
    assert seen_by(client, alice, article_id)["status"] == "queued"  # the extraction is shared
    work_off()
    for token, fields in ((alice, SECRET_FIELDS), (bob, BOBS_FIELDS)):
        done = seen_by(client, token, article_id)
        assert done["status"] == "done" and shown(done) == fields


def test_the_same_idempotency_key_from_another_key_answers_with_that_keys_own_submission(client, alice_and_bob):
    alice, bob = alice_and_bob
    same = {"Idempotency-Key": "cms-42"}
    client.post("/v1/articles", json={"text": SHORT_TEXT, **SECRET_FIELDS}, headers={**bearer(alice), **same})
    response = client.post("/v1/articles", json={"text": SHORT_TEXT, "title": "Bob"}, headers={**bearer(bob), **same})
    assert response.status_code == 202
    assert response.get_json()["title"] == "Bob" and response.get_json()["metadata"] is None


def test_a_key_that_lets_go_leaves_the_other_keys_fields_untouched(client, alice_and_bob):
    alice, bob = alice_and_bob
    article_id = submit(client, alice, **SECRET_FIELDS)["id"]
    submit(client, bob, title="Bob")
    assert client.delete(f"/v1/articles/{article_id}", headers=bearer(bob)).status_code == 204
    assert shown(seen_by(client, alice, article_id)) == SECRET_FIELDS


def test_an_article_stored_before_per_owner_fields_shows_its_fields_to_its_owner_alone(client, keys, redis_conn):
    key, alice = keys.create("alice")
    _, bob = keys.create("bob")
    article_id = submit(client, alice)["id"]
    as_it_used_to_be = {**SECRET_FIELDS, "metadata": json.dumps(SECRET_FIELDS["metadata"]), f"owner:{key.id}": "1"}
    redis_conn.hset(article_key(article_id), mapping=as_it_used_to_be)
    assert shown(seen_by(client, alice, article_id)) == SECRET_FIELDS
    assert shown(submit(client, bob)) == dict.fromkeys(SECRET_FIELDS)


# --- revoking the last key ---------------------------------------------------------------


def test_revoking_the_last_key_keeps_the_api_closed(client, keys, redis_conn, caplog):
    key, alice = keys.create("alice")
    article_id = submit(client, alice, **SECRET_FIELDS)["id"]
    assert keys.revoke(key.id) and not keys.any()
    path = f"/v1/articles/{article_id}"
    assert client.get(path).status_code == 401
    assert client.delete(path).status_code == 401
    assert client.post("/v1/articles", json={"text": SHORT_TEXT}).status_code == 401
    assert redis_conn.exists(article_key(article_id))
    with caplog.at_level(logging.INFO, logger="claimwire.startup"):
        announce_access(redis_conn)
    assert "stays CLOSED" in caplog.text


def test_an_api_opened_on_purpose_never_serves_a_keyed_article_to_a_caller_without_a_key(client, keys, store):
    key, alice = keys.create("alice")
    article_id = submit(client, alice, **SECRET_FIELDS)["id"]
    keys.revoke(key.id)
    assert keys.open_access()
    path = f"/v1/articles/{article_id}"
    assert client.get(path).status_code == 404
    assert client.get(f"{path}/claims").status_code == 404
    assert client.delete(path).status_code == 404
    # Submitting the same text makes the anonymous caller an owner of its own submission only.
    mine = submit(client, None)
    assert mine["id"] == article_id and shown(mine) == dict.fromkeys(SECRET_FIELDS)
    assert client.delete(path).status_code == 204
    assert client.get(path).status_code == 404
    assert store.get(article_id, key.id).metadata == SECRET_FIELDS["metadata"]


def test_opening_the_api_is_refused_while_a_key_exists(config: Config, keys):
    keys.create("alice")
    assert not keys.open_access()
    refused = subprocess.run(claimwire("keys", "open"), env=config_env(config), capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "revoke them all first" in refused.stderr
    assert keys.required()


# --- odd input: 4xx, nothing stored, never Infinity ----------------------------------------


@pytest.mark.parametrize("published_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59"])
def test_a_publication_time_outside_the_utc_years_is_422(client, redis_conn, published_at):
    response = client.post("/v1/articles", json={"text": SHORT_TEXT, "published_at": published_at})
    assert response.status_code == 422
    assert response.get_json()["errors"].keys() == {"published_at"}
    assert not stored(redis_conn)


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1E400"])
def test_a_number_too_large_to_be_finite_is_400_and_no_response_carries_infinity(client, redis_conn, number):
    body = f'{{"text": "{SHORT_TEXT}", "metadata": {{"n": {number}}}}}'
    response = client.post("/v1/articles", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["type"] == "/problems/malformed-body"
    assert "Infinity" not in response.get_data(as_text=True)
    assert not stored(redis_conn)


@pytest.mark.parametrize("charset", ["unicode_escape", "raw_unicode_escape", "utf-7", "punycode", "rot13", "x-unknown"])
def test_a_charset_a_news_client_does_not_send_is_415(client, redis_conn, charset):
    body = b"The minister said \\ud800 +2D- taxes would rise."
    response = client.post("/v1/articles", data=body, content_type=f"text/plain; charset={charset}")
    assert response.status_code == 415
    assert "Accept-Post" in response.headers
    assert not stored(redis_conn)


@pytest.mark.parametrize(
    ("charset", "encoded"),
    [
        ("utf-16", codecs.BOM_UTF16_LE + SHORT_TEXT.encode("utf-16-le")),
        ("UTF-16", SHORT_TEXT.encode("utf-16-be")),  # no BOM: big-endian
        ("utf-32", codecs.BOM_UTF32_BE + SHORT_TEXT.encode("utf-32-be")),
        ("us-ascii", SHORT_TEXT.encode("ascii")),
    ],
)
def test_unicode_charsets_are_read_by_their_byte_order_mark(client, store, charset, encoded):
    response = client.post("/v1/articles", data=encoded, content_type=f"text/plain; charset={charset}")
    assert response.status_code == 202
    assert store.get(response.get_json()["id"]).text == SHORT_TEXT


def test_a_lone_surrogate_in_json_is_400(client, redis_conn):
    response = client.post("/v1/articles", data='{"text": "A said \\ud800 B."}', content_type="application/json")
    assert response.status_code == 400
    assert not stored(redis_conn)


# --- failed authentication is throttled per address -------------------------------------


def test_wrong_keys_from_one_address_get_429_with_retry_after_once_over_the_limit(client, keys, config, redis_conn):
    _, token = keys.create("cms")
    limit = int(config.auth_failure_limit.split("/")[0])
    statuses = [client.get("/v1/articles/" + "0" * 32, headers=bearer(f"cw_guess{i}")).status_code for i in range(limit + 10)]
    assert statuses == [401] * limit + [429] * 10
    throttled = client.get("/v1/articles/" + "0" * 32, headers=bearer(token))
    assert throttled.status_code == 429
    assert throttled.get_json()["type"] == "/problems/authentication-throttled"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert list(redis_conn.scan_iter(match="claimwire:authfail*"))
    other = {"REMOTE_ADDR": "127.0.0.2"}
    assert client.get("/v1/articles/" + "0" * 32, headers=bearer(token), environ_base=other).status_code == 404
    assert client.get("/v1/articles/" + "0" * 32, headers=bearer("cw_guess"), environ_base=other).status_code == 401


def test_a_missing_key_counts_as_a_failure_and_the_probes_are_never_throttled(config, keys):
    keys.create("cms")
    small = create_app(dataclasses.replace(config, auth_failure_limit="3/minute"))
    small.test_client_class = CheckedClient
    client = small.test_client()
    assert [client.get("/v1/articles/" + "0" * 32).status_code for _ in range(4)] == [401, 401, 401, 429]
    assert client.get("/healthz").status_code == 200


def test_failed_authentication_is_counted_across_gunicorn_processes(start_api: ApiFactory, keys):
    keys.create("cms")
    url = start_api(api_processes=2, auth_failure_limit="20/minute")
    session = requests.Session()
    statuses = []
    for i in range(30):
        response = session.get(f"{url}/v1/articles/{'0' * 32}", headers=bearer(f"cw_guess{i}"), timeout=TIMEOUT)
        check_requests_response(response)
        statuses.append(response.status_code)
    assert statuses == [401] * 20 + [429] * 10


# --- bodies and connections, over real gunicorn ------------------------------------------


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT)


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """The status and body of one response (gunicorn sends Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(v) for k, v in (line.split(":", 1) for line in lines[1:]) if k.strip().lower() == "content-length")
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        body += chunk
    return int(lines[0].split()[1]), body


def request_head(url: str, path: str, headers: dict[str, str]) -> bytes:
    host = urlsplit(url).netloc
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunked(body: bytes, size: int = 4096) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def unread_by_server(server_port: int, client_ports: set[int]) -> dict[int, int]:
    """Bytes the server side of each connection holds unread, by client port (Linux /proc/net/tcp)."""
    unread: dict[int, int] = {}
    for line in Path("/proc/net/tcp").read_text(encoding="ascii").splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        remote_port = int(fields[2].split(":")[1], 16)
        if local_port == server_port and remote_port in client_ports:
            unread[remote_port] = int(fields[4].split(":")[1], 16)
    return unread


@pytest.fixture
def small_body_api(start_api: ApiFactory) -> str:
    return start_api(api_processes=1, max_body_bytes=10_000, body_timeout=1.0)


def test_a_chunked_body_over_the_limit_is_413_and_nothing_is_stored(small_body_api, redis_conn):
    body = json.dumps({"text": "The minister said taxes would rise. " * 600}).encode()
    assert len(body) > 10_000
    head = request_head(small_body_api, "/v1/articles", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    with connect(small_body_api) as sock:
        sock.sendall(head + chunked(body))
        status, answer = read_response(sock)
    assert status == 413 and json.loads(answer)["status"] == 413
    assert not stored(redis_conn)
    within = json.dumps({"text": SHORT_TEXT}).encode()
    with connect(small_body_api) as sock:
        sock.sendall(head + chunked(within, size=7))
        assert read_response(sock)[0] == 202


def test_a_body_that_does_not_arrive_in_time_is_408_and_nothing_is_stored(small_body_api, redis_conn):
    head = request_head(small_body_api, "/v1/articles", {"Content-Type": "text/plain", "Content-Length": "100"})
    with connect(small_body_api) as sock:
        sock.sendall(head + b"The minister said")  # and never the rest
        status, answer = read_response(sock)
    assert status == 408
    assert json.loads(answer)["type"] == "/problems/body-timeout"
    assert not stored(redis_conn)


def test_a_body_cut_short_is_400_and_nothing_is_stored(small_body_api, redis_conn):
    head = request_head(small_body_api, "/v1/articles", {"Content-Type": "text/plain", "Content-Length": "100"})
    with connect(small_body_api) as sock:
        sock.sendall(head + b"The minister said")
        sock.shutdown(socket.SHUT_WR)
        status, _ = read_response(sock)
    assert status == 400
    assert not stored(redis_conn)


@contextmanager
def open_connections(url: str, count: int) -> Iterator[list[socket.socket]]:
    with ExitStack() as stack:
        yield [stack.enter_context(connect(url)) for _ in range(count)]


def served_all(url: str, socks: list[socket.socket]) -> Callable[[], bool]:
    port = urlsplit(url).port
    clients = {s.getsockname()[1] for s in socks}

    def check() -> bool:
        unread = unread_by_server(port, clients)
        return len(unread) == len(clients) and not any(unread.values())

    return check


@pytest.fixture
def done_article(client, work_off) -> str:
    """An article whose claims are cached, submitted while the API is open."""
    article_id = client.post("/v1/articles", json={"text": SHORT_TEXT}).get_json()["id"]
    work_off()
    return article_id


def assert_others_are_served(url: str, article_id: str) -> None:
    session = requests.Session()
    for path in ("/healthz", f"/v1/articles/{article_id}", f"/v1/articles/{article_id}/claims"):
        response = session.get(url + path, timeout=TIMEOUT)
        check_requests_response(response)
        assert response.status_code == 200, path
    ready = session.get(f"{url}/readyz", timeout=TIMEOUT)  # no worker runs here: answered, and 503
    check_requests_response(ready)
    assert ready.status_code == 503
    posted = session.post(f"{url}/v1/articles", json={"text": "The mayor said the bridge would reopen."}, timeout=TIMEOUT)
    check_requests_response(posted)
    assert posted.status_code == 202


def test_as_many_slow_bodies_as_twice_the_old_threads_do_not_stop_other_clients(start_api: ApiFactory, done_article):
    url = start_api(body_timeout=120.0)  # the default 2 processes
    head = request_head(url, "/v1/articles", {"Content-Type": "text/plain", "Content-Length": "1000"})
    with open_connections(url, SLOW_CLIENTS) as socks:
        for sock in socks:
            sock.sendall(head + b"T")  # and then nothing: a body trickled slower than anyone waits
        poll(served_all(url, socks), timeout=BUSY_TIMEOUT, what=f"the server to be reading all {SLOW_CLIENTS} bodies")
        assert_others_are_served(url, done_article)


def test_waits_in_extract_do_not_starve_the_probes_and_the_cached_reads(start_api: ApiFactory, done_article, redis_conn):
    url = start_api(extract_wait=120.0)
    texts = [f"The minister said that {n} schools would close." for n in range(SLOW_CLIENTS)]
    ids = [derive_article_id(text, None) for text in texts]
    channels = [events_channel(article_id) for article_id in ids]
    with open_connections(url, SLOW_CLIENTS) as socks:
        for sock, text in zip(socks, texts):
            body = json.dumps({"text": text}).encode()
            head = request_head(url, "/v1/extract", {"Content-Type": "application/json", "Content-Length": str(len(body))})
            sock.sendall(head + body)
        poll(
            lambda: all(n >= 1 for _, n in redis_conn.pubsub_numsub(*channels)),
            timeout=BUSY_TIMEOUT,
            what=f"all {SLOW_CLIENTS} extract calls to be waiting",
        )
        assert_others_are_served(url, done_article)
        for article_id, channel in zip(ids, channels):  # end the waits: the articles are gone
            redis_conn.delete(article_key(article_id))
            redis_conn.publish(channel, "failed")
        assert {read_response(sock)[0] for sock in socks} == {404}


def test_the_cached_reads_of_a_done_article_keep_to_its_owners(client, keys, work_off):
    """The one-round-trip reads (stored claims, 304 by ETag, a repeated POST) check ownership too."""
    (alice_key, alice), (bob_key, bob) = keys.create("alice"), keys.create("bob")
    article_id = submit(client, alice, **SECRET_FIELDS)["id"]
    work_off()
    path = f"/v1/articles/{article_id}"
    claims_etag = client.get(f"{path}/claims", headers=bearer(alice)).get_etag()[0]
    article_etag = client.get(path, headers=bearer(alice)).get_etag()[0]
    for url, etag in ((f"{path}/claims", claims_etag), (path, article_etag)):
        assert client.get(url, headers=bearer(bob)).status_code == 404
        assert client.get(url, headers={**bearer(bob), "If-None-Match": f'"{etag}"'}).status_code == 404

    again = submit(client, alice)
    assert again["status"] == "done" and shown(again) == SECRET_FIELDS
    bobs = submit(client, bob)
    assert bobs["status"] == "done" and shown(bobs) == dict.fromkeys(SECRET_FIELDS)
    assert "insider" not in json.dumps(bobs) and bobs["claims"] == again["claims"]
    assert client.get(path, headers=bearer(bob)).get_etag()[0] != article_etag

    keys.revoke(alice_key.id)
    keys.revoke(bob_key.id)
    assert keys.open_access()
    for url, etag in ((f"{path}/claims", claims_etag), (path, article_etag)):
        assert client.get(url).status_code == 404
        assert client.get(url, headers={"If-None-Match": f'"{etag}"'}).status_code == 404



def test_under_gunicorns_gevent_workers_a_large_html_page_is_extracted_off_the_event_loop(start_api: ApiFactory):
    """The path of :mod:`service.off_loop` in a real gevent worker: a page of about 450 kB is
    turned into text in a native thread, and the article is stored with that text. That the
    event loop runs meanwhile is tests/test_off_loop.py's proof."""
    url = start_api(api_processes=1)
    paragraphs = "".join(f"<p>Paragraph {n}. {SEED_TEXT}</p>" for n in range(150))
    page = f"<html><head><title>Big</title></head><body><article>{paragraphs}</article></body></html>"
    assert 400_000 < len(page) < 500_000  # its text fits CLAIMWIRE_MAX_TEXT_CHARS
    session = requests.Session()
    posted = session.post(f"{url}/v1/articles", data=page.encode(), headers={"Content-Type": "text/html"}, timeout=TIMEOUT * 6)
    check_requests_response(posted)
    assert posted.status_code == 202
    article = session.get(f"{url}/v1/articles/{posted.json()['id']}", timeout=TIMEOUT).json()
    assert article["text"].startswith("Paragraph 0.") and "Paragraph 149." in article["text"]
    assert article["title"] == "Big"
