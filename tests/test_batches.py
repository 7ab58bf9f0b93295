"""Batches: many articles in one request, per-item errors, progress, NDJSON claims, limits by item."""

from __future__ import annotations

import dataclasses
import json

import requests
from flask import Flask

from service.app import create_app
from service.batches import MAX_BATCH_ITEMS
from service.config import Config
from service.keys import ApiKeys
from support.fixtures_api import SHORT_TEXT
from support.openapi_check import CheckedClient


def app_with(config: Config, **changes) -> CheckedClient:
    app: Flask = create_app(dataclasses.replace(config, **changes))
    app.test_client_class = CheckedClient
    return app.test_client()


def texts(n: int) -> list[dict]:
    return [{"text": f"{SHORT_TEXT} The mayor said that {i} bridges would close."} for i in range(n)]


def read_ndjson(response) -> list[dict]:
    assert response.mimetype == "application/x-ndjson"
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def test_a_batch_reports_bad_items_by_index_and_extracts_the_rest(client, work_off) -> None:
    items = texts(3) + [{"text": "   "}, {"text": "x", "colour": "red"}, "not an object", texts(1)[0]]
    accepted = client.post("/v1/batches", json=items)
    assert accepted.status_code == 202
    body = accepted.get_json()
    assert (body["total"], body["accepted"], body["rejected"]) == (7, 4, 3)
    assert [e["index"] for e in body["errors"]] == [3, 4, 5]
    assert all(e["problem"]["status"] == 422 for e in body["errors"])
    progress = client.get(body["links"]["self"]).get_json()
    assert progress["counts"]["queued"] == 4 and progress["counts"]["rejected"] == 3 and not progress["settled"]
    work_off()
    progress = client.get(body["links"]["self"]).get_json()
    assert progress["counts"] == {"queued": 0, "running": 0, "done": 4, "failed": 0, "rejected": 3, "missing": 0}
    assert progress["settled"]
    lines = read_ndjson(client.get(body["links"]["claims"]))
    assert [line["index"] for line in lines] == list(range(7))
    assert [line["status"] for line in lines] == ["done"] * 3 + ["rejected"] * 3 + ["done"]
    assert lines[0]["article_id"] == lines[6]["article_id"]  # the same article twice: one article
    assert all(line["claims"] for line in lines if line["status"] == "done")
    assert all("article_id" not in line and line["problem"] for line in lines if line["status"] == "rejected")


def test_ndjson_batches_report_a_malformed_line_as_its_item(client) -> None:
    body = "\n".join([json.dumps(texts(1)[0]), "{not json", "", json.dumps({"url": "https://example.com/a"})]) + "\n"
    accepted = client.post("/v1/batches", data=body, content_type="application/x-ndjson")
    assert accepted.status_code == 202
    result = accepted.get_json()
    assert (result["total"], result["rejected"]) == (3, 1)
    assert result["errors"][0]["index"] == 1 and result["errors"][0]["problem"]["status"] == 400


def test_the_rate_limit_counts_items_not_requests(config) -> None:
    client = app_with(config, rate_limit="10/minute")
    assert client.post("/v1/batches", json=texts(8)).status_code == 202
    assert client.post("/v1/articles", json={"text": SHORT_TEXT}).status_code == 202  # 9 of 10
    refused = client.post("/v1/batches", json=texts(2))
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    too_big = app_with(config, rate_limit="5/minute").post("/v1/batches", json=texts(6))
    assert too_big.status_code == 422 and "Split it" in too_big.get_json()["detail"]


def test_a_batch_the_queue_cannot_take_is_refused_whole(config, redis_conn) -> None:
    client = app_with(config, max_queue_depth=3)
    refused = client.post("/v1/batches", json=texts(4))
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert redis_conn.keys("claimwire:article:*") == [] and redis_conn.keys("claimwire:batch:*") == []


def test_batch_bounds_and_media_types(client) -> None:
    assert client.post("/v1/batches", json=[{"text": "a"}] * (MAX_BATCH_ITEMS + 1)).status_code == 422
    assert client.post("/v1/batches", json=[]).status_code == 422
    assert client.post("/v1/batches", json={"text": "a"}).status_code == 400
    assert client.post("/v1/batches", data="a", content_type="text/plain").status_code == 415


def test_a_key_sees_only_its_own_batches(client, redis_conn) -> None:
    keys = ApiKeys(redis_conn)
    a, b = ({"Authorization": f"Bearer {keys.create(n)[1]}"} for n in ("a", "b"))
    batch = client.post("/v1/batches", json=texts(1), headers=a).get_json()
    assert client.get(batch["links"]["self"], headers=b).status_code == 404
    assert client.get(batch["links"]["claims"], headers=b).status_code == 404
    assert client.get(batch["links"]["self"], headers=a).status_code == 200
    (line,) = read_ndjson(client.get(batch["links"]["claims"], headers=a))
    assert client.get(f"/v1/articles/{line['article_id']}", headers=a).status_code == 200  # the batch's key owns it
    assert client.get(f"/v1/articles/{line['article_id']}", headers=b).status_code == 404


def test_under_gunicorns_gevent_workers_a_batch_is_submitted_whole_and_streamed_back(api_url, redis_conn) -> None:
    """The batch's submission threads are greenlets there (gevent patches threading): every
    item must still be stored, queued once and streamed back in order, and the probes answer."""
    items = texts(60) + [{"text": " "}]
    accepted = requests.post(f"{api_url}/v1/batches", json=items, timeout=60)
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert (body["accepted"], body["rejected"]) == (60, 1)
    assert requests.get(f"{api_url}/healthz", timeout=10).ok
    with requests.get(f"{api_url}{body['links']['claims']}", stream=True, timeout=60) as streamed:
        lines = [json.loads(line) for line in streamed.iter_lines() if line]
    assert [line["index"] for line in lines] == list(range(61))
    assert [line["status"] for line in lines] == ["queued"] * 60 + ["rejected"]
    assert len({line["article_id"] for line in lines[:60]}) == 60 == len(redis_conn.keys("claimwire:article:*"))


def test_a_batch_body_is_bounded_and_decoded_as_strictly_as_one_article(config, redis_conn) -> None:
    small = app_with(config, max_batch_bytes=1_000)
    assert small.post("/v1/batches", json=texts(30)).status_code == 413
    assert redis_conn.keys("claimwire:*") == []
    client = app_with(config)
    infinite = json.dumps(texts(1)[0])[:-1] + ', "metadata": {"n": 1e999}}'
    assert client.post("/v1/batches", data=f"[{infinite}]", content_type="application/json").status_code == 400
    body = "\n".join([json.dumps(texts(1)[0]), infinite]) + "\n"
    result = client.post("/v1/batches", data=body, content_type="application/x-ndjson").get_json()
    assert (result["accepted"], result["rejected"]) == (1, 1)
    assert result["errors"][0]["index"] == 1 and "too large" in result["errors"][0]["problem"]["detail"]
