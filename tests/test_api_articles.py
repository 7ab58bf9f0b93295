"""POST/GET/DELETE /v1/articles against a real Redis, with real RQ workers doing the extraction."""

from __future__ import annotations

import dataclasses
import re

import pytest
from flask import Flask
from redis import Redis
from rq.job import Job

from service.access import RATE_LIMIT_PREFIX
from service.app import create_app
from service.config import Config
from service.view_links import SECRET_KEY as VIEW_SECRET_KEY
from service.store import article_key, result_key
from support.fixtures_api import SHORT_TEXT
from support.openapi_check import CheckedClient
from support.seeds import SEED_TEXT
from workers.pipeline import EXTRACTOR_VERSION

PROBLEM = "application/problem+json"


def service_keys(redis: Redis) -> list[bytes]:
    """What the service stored, apart from the rate-limit counters every request updates and the
    view-link secret the first article representation creates."""
    return sorted(
        k for k in redis.scan_iter(match="claimwire:*") if not k.startswith(RATE_LIMIT_PREFIX.encode()) and k != VIEW_SECRET_KEY.encode()
    )


def test_post_json_answers_202_with_location_and_queues_one_job(client, queue, redis_conn):
    response = client.post("/v1/articles", json={"text": SHORT_TEXT, "title": "Budget", "metadata": {"k": [1]}})
    assert response.status_code == 202
    body = response.get_json()
    assert re.fullmatch(r"[0-9a-f]{32}", body["id"])
    assert response.headers["Location"] == f"/v1/articles/{body['id']}"
    assert body["status"] == "queued"
    assert body["extractor_version"] == EXTRACTOR_VERSION
    assert body["title"] == "Budget" and body["metadata"] == {"k": [1]}
    links = {k: v for k, v in body["links"].items() if k != "view"}
    assert links == {"self": f"/v1/articles/{body['id']}", "claims": f"/v1/articles/{body['id']}/claims"}
    assert body["links"]["view"].startswith(f"/v1/articles/{body['id']}/view?")
    assert "claims" not in body
    assert queue.count == 1
    assert redis_conn.ttl(article_key(body["id"])) > 0


def test_same_article_gets_same_id_and_no_second_job(client, queue):
    first = client.post("/v1/articles", json={"text": SHORT_TEXT})
    second = client.post("/v1/articles", data=SHORT_TEXT, content_type="text/plain; charset=utf-8")
    assert second.status_code == 202
    assert second.get_json()["id"] == first.get_json()["id"]
    assert queue.count == 1


def test_id_depends_on_text_and_publication_time(client):
    ids = {
        client.post("/v1/articles", json=body).get_json()["id"]
        for body in (
            {"text": SHORT_TEXT},
            {"text": SHORT_TEXT + " "},
            {"text": SHORT_TEXT, "published_at": "2024-08-10T10:00:00+02:00"},
        )
    }
    assert len(ids) == 3
    same_instant = client.post("/v1/articles", json={"text": SHORT_TEXT, "published_at": "2024-08-10T08:00:00Z"})
    assert same_instant.get_json()["id"] in ids
    assert same_instant.get_json()["published_at"] == "2024-08-10T08:00:00Z"


def test_text_plain_honours_charset(client, store):
    text = "Le ministre a déclaré que les impôts augmenteraient."
    response = client.post("/v1/articles", data=text.encode("latin-1"), content_type="text/plain; charset=latin-1")
    assert response.status_code == 202
    assert store.get(response.get_json()["id"]).text == text


@pytest.mark.parametrize(
    "content_type",
    ["application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", None],
)
def test_other_content_types_are_415(client, content_type, redis_conn):
    kwargs = {"content_type": content_type} if content_type else {}
    response = client.post("/v1/articles", data=b"text=hello", **kwargs)
    assert response.status_code == 415
    assert response.mimetype == PROBLEM
    assert response.headers["Accept-Post"] == "application/json, text/plain, text/html"
    assert service_keys(redis_conn) == []


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "text", "Send the article's text, its html, or a url to fetch it from."),
        ({"text": " \n\t "}, "text", "Must contain more than whitespace."),
        ({"text": 42}, "text", "Not a valid string."),
        ({"text": "x", "published_at": "2024-08-10T10:00:00"}, "published_at", None),
        ({"text": "x", "published_at": "2024-08-10"}, "published_at", None),
        ({"text": "x", "published_at": "yesterday"}, "published_at", None),
        ({"text": "x", "url": "ftp://example.org/a"}, "url", None),
        ({"text": "x", "language": "de"}, "language", "Only en is supported."),
        ({"text": "x", "metadata": {"blob": "y" * 9000}}, "metadata", None),
        ({"text": "x", "metadata": [1, 2]}, "metadata", None),
        ({"text": "x", "title": "t" * 1001}, "title", None),
        ({"text": "x", "extra": 1}, "extra", "Unknown field."),
    ],
)
def test_invalid_fields_are_422_with_per_field_errors(client, body, field, message, redis_conn, queue):
    response = client.post("/v1/articles", json=body)
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["type"] == "/problems/validation-error"
    assert field in problem["errors"]
    if message:
        assert problem["errors"][field] == [message]
    assert service_keys(redis_conn) == [] and queue.count == 0


def test_non_object_json_is_422(client):
    response = client.post("/v1/articles", json=["text"])
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"_schema": ["Invalid input type."]}


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b'{"text": "unterminated', "application/json"),
        (b'{"text": "x", "metadata": {"n": NaN}}', "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b"\xff\xfe\xfa invalid", "text/plain"),
        (b'{"text": "half a pair: \\ud800"}', "application/json"),
    ],
)
def test_undecodable_bodies_are_400(client, data, content_type, redis_conn):
    response = client.post("/v1/articles", data=data, content_type=content_type)
    assert response.status_code == 400
    assert response.get_json()["type"] == "/problems/malformed-body"
    assert service_keys(redis_conn) == []


def test_body_over_the_limit_is_413_and_nothing_is_stored(config: Config, redis_conn):
    app = create_app(dataclasses.replace(config, max_body_bytes=2_000))
    app.test_client_class = CheckedClient
    client = app.test_client()
    assert client.post("/v1/articles", data="a" * 1_900, content_type="text/plain").status_code == 202
    response = client.post("/v1/articles", json={"text": "a" * 2_000})
    assert response.status_code == 413
    assert response.mimetype == PROBLEM
    assert len(service_keys(redis_conn)) == 1


def test_worker_extracts_and_get_shows_done_with_claims(client, work_off, redis_conn, config):
    article_id = client.post("/v1/articles", json={"text": SEED_TEXT}).get_json()["id"]
    queued = client.get(f"/v1/articles/{article_id}").get_json()
    assert queued["status"] == "queued" and queued["started_at"] is None and queued["attempts"] == 0

    work_off()

    done = client.get(f"/v1/articles/{article_id}").get_json()
    assert done["status"] == "done"
    assert done["attempts"] == 1
    assert done["created_at"] <= done["started_at"] <= done["finished_at"]
    assert done["extractor_version"] == EXTRACTOR_VERSION
    assert "problem" not in done
    putin = [c for c in done["claims"] if "Putin" in ((c["claimant"] or {}).get("resolved") or "")]
    assert putin, "the seed article quotes Putin"
    for claim in done["claims"]:
        content = claim["content"]
        assert SEED_TEXT[content["start"] : content["end"]] == content["text"]
    assert 0 < redis_conn.ttl(result_key(article_id)) <= config.result_ttl


def test_post_of_a_done_article_answers_200_with_claims_and_queues_nothing(client, work_off, queue):
    article_id = client.post("/v1/articles", json={"text": SEED_TEXT}).get_json()["id"]
    work_off()
    response = client.post("/v1/articles", json={"text": SEED_TEXT})
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert response.headers["Content-Location"] == f"/v1/articles/{article_id}"
    body = response.get_json()
    assert body["status"] == "done" and body["claims"]
    assert queue.count == 0


@pytest.mark.parametrize("article_id", ["0" * 32, "not-an-id", "A" * 32])
def test_unknown_article_is_404_problem(client, article_id):
    for response in (client.get(f"/v1/articles/{article_id}"), client.delete(f"/v1/articles/{article_id}")):
        assert response.status_code == 404
        assert response.mimetype == PROBLEM
        assert response.get_json()["title"] == "Not Found"


def test_delete_removes_article_and_cached_claims(client, work_off, redis_conn):
    article_id = client.post("/v1/articles", json={"text": SHORT_TEXT}).get_json()["id"]
    work_off()
    assert redis_conn.exists(result_key(article_id))
    response = client.delete(f"/v1/articles/{article_id}")
    assert response.status_code == 204 and response.get_data() == b""
    assert not redis_conn.exists(article_key(article_id), result_key(article_id))
    assert client.get(f"/v1/articles/{article_id}").status_code == 404
    assert client.get(f"/v1/articles/{article_id}/claims").status_code == 404
    assert client.delete(f"/v1/articles/{article_id}").status_code == 404


def test_delete_while_queued_is_not_undone_by_the_job(client, work_off, redis_conn):
    article_id = client.post("/v1/articles", json={"text": SHORT_TEXT}).get_json()["id"]
    assert client.delete(f"/v1/articles/{article_id}").status_code == 204
    work_off()
    assert service_keys(redis_conn) == []


def test_resubmitted_article_is_owned_by_its_new_job(client, work_off, queue, store):
    article_id = client.post("/v1/articles", json={"text": SHORT_TEXT}).get_json()["id"]
    client.delete(f"/v1/articles/{article_id}")
    client.post("/v1/articles", json={"text": SHORT_TEXT})
    assert queue.count == 2  # the orphaned job and the new one
    work_off()
    article = store.get(article_id)
    assert article.status == "done" and article.attempts == 1


def test_an_article_whose_job_was_lost_is_queued_again(client, work_off, queue, store):
    article_id = client.post("/v1/articles", json={"text": SHORT_TEXT}).get_json()["id"]
    lost = store.get(article_id).job_id
    Job.fetch(lost, connection=queue.connection).delete()
    again = client.post("/v1/articles", json={"text": SHORT_TEXT})
    assert again.status_code == 202
    assert store.get(article_id).job_id != lost
    assert queue.count == 1
    work_off()
    assert store.get(article_id).status == "done"


def test_method_not_allowed_is_a_problem_with_allow(client):
    response = client.put("/v1/articles")
    assert response.status_code == 405
    assert response.mimetype == PROBLEM
    assert "POST" in response.headers["Allow"]


def test_unknown_path_is_a_problem(client):
    response = client.get("/v2/nothing")
    assert response.status_code == 404
    assert response.get_json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": response.get_json()["detail"],
    }


def test_redis_unreachable_is_503_storage_unavailable(config: Config):
    app: Flask = create_app(dataclasses.replace(config, redis_url="redis://127.0.0.1:1/0"))
    app.test_client_class = CheckedClient
    response = app.test_client().post("/v1/articles", json={"text": SHORT_TEXT})
    assert response.status_code == 503
    assert response.get_json()["type"] == "/problems/storage-unavailable"
    assert response.headers["Retry-After"] == "5"
