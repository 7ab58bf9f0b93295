"""The extraction job under real RQ workers: results, permanent failures, timeouts and retries."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

from fixtures_api import SEED_TEXT, SHORT_TEXT, broken_published_at, wait_until
from service.app import create_app
from service.store import article_key, result_key
from workers.claims import dump_extraction
from workers.pipeline import get_extractor


def test_job_caches_the_extraction_of_the_pipeline(client, work_off, redis_conn, config):
    body = {"text": SEED_TEXT, "published_at": "2024-08-10T12:00:00Z"}
    article_id = client.post("/v1/articles", json=body).get_json()["id"]
    work_off()
    cached = json.loads(redis_conn.get(result_key(article_id)))
    expected = dump_extraction(get_extractor().extract(SEED_TEXT, datetime.fromisoformat("2024-08-10T12:00:00+00:00")))
    assert {name: cached[name] for name in expected} == expected
    assert cached["article_id"] == article_id and cached["total"] == len(expected["claims"])
    assert 0 < redis_conn.ttl(article_key(article_id)) <= config.result_ttl


def test_a_permanent_failure_marks_the_article_failed_without_retrying(client, work_off, redis_conn, queue):
    body = {"text": SHORT_TEXT, "published_at": "2024-01-01T00:00:00Z"}
    article_id = client.post("/v1/articles", json=body).get_json()["id"]
    with broken_published_at(redis_conn, article_id):
        work_off()
    article = client.get(f"/v1/articles/{article_id}").get_json()
    assert article["status"] == "failed"
    assert article["attempts"] == 1
    assert article["finished_at"] is not None
    assert "claims" not in article
    problem = article["problem"]
    assert problem["type"] == "/problems/extraction-failed" and problem["status"] == 500
    assert "ValueError" in problem["detail"]
    assert queue.count == 0 and queue.scheduled_job_registry.count == 0, "not retried"
    assert not redis_conn.exists(result_key(article_id))

    claims = client.get(f"/v1/articles/{article_id}/claims")
    assert claims.status_code == 409
    assert claims.get_json()["article_status"] == "failed"


def test_a_failed_article_is_queued_again_when_submitted_again(client, work_off, redis_conn, queue):
    body = {"text": SHORT_TEXT, "published_at": "2024-01-01T00:00:00Z"}
    article_id = client.post("/v1/articles", json=body).get_json()["id"]
    with broken_published_at(redis_conn, article_id):
        work_off()
    again = client.post("/v1/articles", json=body)
    assert again.status_code == 202
    assert again.get_json()["status"] == "queued" and again.get_json()["attempts"] == 0
    work_off()
    assert client.get(f"/v1/articles/{article_id}").get_json()["status"] == "done"


def test_a_timeout_is_retried_with_backoff_then_fails(config, start_worker, store, redis_conn):
    """Job timeout 1 s on a text that needs longer: RQ retries once after 2 s, then gives up."""
    slow = dataclasses.replace(config, job_timeout=1, job_retries=1)
    start_worker(slow)
    app = create_app(slow)
    text = "\n\n".join([SEED_TEXT] * 30)
    article_id = app.test_client().post("/v1/articles", data=text, content_type="text/plain").get_json()["id"]
    statuses: list[str] = []

    def settled() -> bool:
        article = store.get(article_id)
        if not statuses or statuses[-1] != article.status:
            statuses.append(article.status)
        return article.status == "failed"

    wait_until(settled, 60, "the article to fail", interval=0.02)
    article = store.get(article_id)
    assert article.attempts == 2
    assert article.problem["status"] == 503
    assert "job timeout" in article.problem["detail"]
    assert statuses[-4:] == ["running", "queued", "running", "failed"], "back to queued between attempts"
