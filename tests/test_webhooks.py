"""Signed webhooks: a loopback receiver checks every delivery with the reference
``standardwebhooks`` library; real extraction and delivery workers run as processes."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from standardwebhooks.webhooks import Webhook as ReferenceVerifier

from service.config import Config
from service.keys import ApiKeys
from service.webhook_events import webhooks_queue_name
from support.fixtures_api import SHORT_TEXT, checked_app, spawn_worker, stop_process_tree
from support.loopback_http import base_url, loopback_server
from support.openapi_check import CheckedClient
from support.waiting import poll

DELIVERY_TIMEOUT = 60.0
HOLD_LIMIT = 60.0


class Receiver(BaseHTTPRequestHandler):
    """Answers each POST with the next scripted status (then 200), and records what came."""

    secrets: dict[str, str] = {}  # path -> whsec_ secret
    script: list[int | str] = []  # statuses, or "hold" to keep the request open until released
    received: list[dict] = []
    holding = threading.Event()
    release = threading.Event()

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        ReferenceVerifier(Receiver.secrets[self.path]).verify(body, headers)  # raises if the signature is wrong
        action = Receiver.script.pop(0) if Receiver.script else 200
        if action == "hold":
            Receiver.holding.set()
            Receiver.release.wait(HOLD_LIMIT)
            action = 503
        Receiver.received.append({"path": self.path, "id": headers["webhook-id"], "status": action, "body": json.loads(body)})
        try:
            self.send_response(int(action))
            self.send_header("Content-Length", "0")
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.secrets, Receiver.script, Receiver.received = {}, [], []
    Receiver.holding, Receiver.release = threading.Event(), threading.Event()
    with loopback_server(Receiver) as server:
        yield base_url(server)
        Receiver.release.set()


@pytest.fixture
def hook_config(config: Config, receiver: str) -> Config:
    port = int(receiver.rsplit(":", 1)[1])
    return dataclasses.replace(
        config, fetch_allow_networks=("127.0.0.0/8",), fetch_ports=(80, 443, port), fetch_timeout=2.0,
        webhook_retry_schedule=(1, 1, 1, 1, 1),
    )


@pytest.fixture
def hook_client(hook_config: Config) -> CheckedClient:
    return checked_app(hook_config).test_client()


@pytest.fixture
def start_delivery_worker(hook_config: Config, tmp_path: Path) -> Iterator:
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = tmp_path / f"delivery-worker-{len(started)}.log"
        started.append(spawn_worker("workers.delivery_worker.run_delivery_worker", hook_config, log))
        return started[-1]

    yield start
    for proc in started:
        stop_process_tree(proc)


def register(client: CheckedClient, url: str, headers: dict[str, str] | None = None, **extra) -> dict:
    response = client.post("/v1/webhooks", json={"url": url, **extra}, headers=headers or {})
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    Receiver.secrets["/" + url.split("/", 3)[3]] = created["secret"]
    return created


def delivery_of(client: CheckedClient, webhook_id: str, headers: dict[str, str] | None = None) -> dict | None:
    deliveries = client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=headers or {}).get_json()["deliveries"]
    return deliveries[0] if deliveries else None


def wait_for_delivery(client: CheckedClient, webhook_id: str, status: str, headers: dict[str, str] | None = None) -> dict:
    return poll(lambda: delivery_of(client, webhook_id, headers) or {}, lambda d: d.get("status") == status,
                DELIVERY_TIMEOUT, f"a {status} delivery")


def webhook_jobs_left(redis: Redis, config: Config) -> dict[str, int]:
    """The delivery jobs still queued, scheduled or started, by where they are (none: ``{}``)."""
    queue = Queue(webhooks_queue_name(config), connection=redis)
    counts = {
        "queued": queue.count,
        "scheduled": queue.scheduled_job_registry.count,
        "started": queue.started_job_registry.count,
    }
    return {where: count for where, count in counts.items() if count}


def test_an_endpoint_is_registered_listed_and_deleted_and_its_secret_shown_once(hook_client, receiver) -> None:
    created = register(hook_client, f"{receiver}/a", events=["article.done"], description="CMS")
    assert created["secret"].startswith("whsec_") and created["events"] == ["article.done"]
    listed = hook_client.get("/v1/webhooks").get_json()["webhooks"]
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]
    assert "secret" not in hook_client.get(f"/v1/webhooks/{created['id']}").get_json()
    assert hook_client.delete(f"/v1/webhooks/{created['id']}").status_code == 204
    assert hook_client.get(f"/v1/webhooks/{created['id']}").status_code == 404


@pytest.mark.parametrize(
    "body",
    [{"url": "http://127.0.0.1/hook"}, {"url": "http://169.254.169.254/"}, {"url": "http://[::1]/"},
     {"url": "http://2130706433/"}, {"url": "http://localhost/"}, {"url": "ftp://example.com/"},
     {"url": "http://93.184.216.34/", "events": ["article.deleted"]}, {"url": "http://93.184.216.34/", "events": []}],
)
def test_refused_urls_and_unknown_events_are_422(client, body) -> None:
    response = client.post("/v1/webhooks", json=body)
    assert response.status_code == 422, body


def test_a_receiver_that_fails_then_recovers_gets_the_event_once_as_a_success(
    hook_client, hook_config, receiver, start_worker, start_delivery_worker, redis_conn
) -> None:
    webhook = register(hook_client, f"{receiver}/a")
    Receiver.script = [500, 503, 429]
    start_worker(hook_config)
    start_delivery_worker()
    article_id = hook_client.post("/v1/articles", json={"text": SHORT_TEXT}).get_json()["id"]
    delivery = wait_for_delivery(hook_client, webhook["id"], "succeeded")
    assert [r["status"] for r in Receiver.received] == [500, 503, 429, 200]
    assert {r["id"] for r in Receiver.received} == {delivery["id"]}  # one message, every attempt signed
    assert (delivery["attempts"], delivery["last_http_status"], delivery["last_error"]) == (4, 200, None)
    event = Receiver.received[-1]["body"]
    assert event["type"] == "article.done" and event["data"]["article_id"] == article_id
    assert event["data"]["links"]["claims"] == f"/v1/articles/{article_id}/claims"
    assert event["data"]["claims_count"] >= 1
    poll(lambda: webhook_jobs_left(redis_conn, hook_config), lambda left: left == {}, DELIVERY_TIMEOUT,
         "no job left")  # nothing more will be sent


def test_a_final_4xx_stops_and_a_redelivery_sends_the_same_message_again(
    hook_client, hook_config, receiver, start_worker, start_delivery_worker
) -> None:
    webhook = register(hook_client, f"{receiver}/a")
    Receiver.script = [410]
    start_worker(hook_config)
    start_delivery_worker()
    hook_client.post("/v1/articles", json={"text": SHORT_TEXT})
    failed = wait_for_delivery(hook_client, webhook["id"], "failed")
    assert (failed["attempts"], failed["last_http_status"]) == (1, 410)
    again = hook_client.post(f"/v1/webhooks/{webhook['id']}/deliveries/{failed['id']}/redeliver")
    assert again.status_code == 202
    succeeded = wait_for_delivery(hook_client, webhook["id"], "succeeded")
    assert succeeded["id"] == failed["id"] and succeeded["attempts"] == 2
    assert [r["id"] for r in Receiver.received] == [failed["id"], failed["id"]]


def test_a_key_receives_events_about_its_own_articles_only(
    hook_client, hook_config, receiver, start_worker, start_delivery_worker, redis_conn
) -> None:
    keys = ApiKeys(redis_conn)
    tokens = {name: {"Authorization": f"Bearer {keys.create(name)[1]}"} for name in ("a", "b")}
    hooks = {name: register(hook_client, f"{receiver}/{name}", tokens[name]) for name in ("a", "b")}
    assert hook_client.get(f"/v1/webhooks/{hooks['a']['id']}", headers=tokens["b"]).status_code == 404
    start_worker(hook_config)
    start_delivery_worker()
    a_article = hook_client.post("/v1/articles", json={"text": SHORT_TEXT}, headers=tokens["a"]).get_json()["id"]
    b_url = f"{receiver}/no-such-page"  # fetching it fails: article.failed for b
    b_article = hook_client.post("/v1/articles", json={"url": b_url}, headers=tokens["b"]).get_json()["id"]
    wait_for_delivery(hook_client, hooks["a"]["id"], "succeeded", tokens["a"])
    wait_for_delivery(hook_client, hooks["b"]["id"], "succeeded", tokens["b"])
    by_path = {r["path"]: r["body"] for r in Receiver.received}
    assert len(Receiver.received) == 2
    assert by_path["/a"]["data"]["article_id"] == a_article and by_path["/a"]["type"] == "article.done"
    assert by_path["/b"]["data"]["article_id"] == b_article and by_path["/b"]["type"] == "article.failed"
    assert by_path["/b"]["data"]["problem"]["reason"] == "http-status"


def test_a_dead_receiver_does_not_hold_up_extraction(
    hook_client, hook_config, receiver, start_worker, start_delivery_worker
) -> None:
    webhook = register(hook_client, f"{receiver}/a")
    Receiver.script = ["hold"]
    start_worker(hook_config)
    start_delivery_worker()
    first = hook_client.post("/v1/articles", json={"text": SHORT_TEXT}).get_json()["id"]
    assert Receiver.holding.wait(DELIVERY_TIMEOUT), "the first delivery never reached the receiver"
    texts = [f"{SHORT_TEXT} The mayor said that {n} bridges would close." for n in range(5)]
    ids = [hook_client.post("/v1/articles", json={"text": t}).get_json()["id"] for t in texts]
    poll(lambda: all(hook_client.get(f"/v1/articles/{i}").get_json()["status"] == "done" for i in ids), bool,
         DELIVERY_TIMEOUT, "the later articles")
    assert not Receiver.release.is_set() and Receiver.received == []  # the receiver is still stuck on the first
    Receiver.release.set()
    poll(lambda: len([r for r in Receiver.received if r["status"] == 200]) == 6, bool, DELIVERY_TIMEOUT, "all events")
    assert {r["body"]["data"]["article_id"] for r in Receiver.received} == {first, *ids}
    assert delivery_of(hook_client, webhook["id"])["status"] == "succeeded"


def test_a_delivery_worker_killed_mid_delivery_does_not_lose_the_event(
    hook_client, hook_config, receiver, start_worker, start_delivery_worker, redis_conn
) -> None:
    webhook = register(hook_client, f"{receiver}/a")
    Receiver.script = ["hold"]
    start_worker(hook_config)
    doomed = start_delivery_worker()
    article_id = hook_client.post("/v1/articles", json={"text": SHORT_TEXT}).get_json()["id"]
    assert Receiver.holding.wait(DELIVERY_TIMEOUT), "the delivery never reached the receiver"
    os.killpg(doomed.pid, signal.SIGKILL)  # the worker and its work-horse, mid-request
    doomed.wait(10)
    Receiver.release.set()  # the held request's answer goes nowhere
    start_delivery_worker()
    delivery = wait_for_delivery(hook_client, webhook["id"], "succeeded")
    successes = [r for r in Receiver.received if r["status"] == 200]
    assert len(successes) == 1 and successes[0]["id"] == delivery["id"]
    assert successes[0]["body"]["data"]["article_id"] == article_id
    poll(lambda: webhook_jobs_left(redis_conn, hook_config), lambda left: left == {}, DELIVERY_TIMEOUT, "no job left")
