"""The extraction job under real RQ workers: results, permanent failures, timeouts and retries."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

from rq.job import Job, JobStatus

from service.app import create_app
from service.store import article_key, result_key
from support.fixtures_api import SHORT_TEXT, broken_published_at
from support.seeds import SEED_TEXT
from support.waiting import poll
from workers.claims import dump_extraction
from workers.pipeline import get_extractor


def test_job_caches_the_extraction_of_the_pipeline(client, work_off, redis_conn, config):
    body = {"text": SEED_TEXT, "published_at": "2024-08-10T12:00:00Z"}
    article_id = client.post("/v1/articles", json=body).get_json()["id"]
    work_off()
    cached = json.loads(redis_conn.get(result_key(article_id)))
    expected = dump_extraction(get_extractor().extract(SEED_TEXT, datetime.fromisoformat("2024-08-10T12:00:00+00:00")))
    assert cached == expected
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


def test_a_permanent_failure_is_cached_and_a_resubmission_queues_nothing(client, work_off, redis_conn, queue):
    body = {"text": SHORT_TEXT, "published_at": "2024-01-01T00:00:00Z"}
    article_id = client.post("/v1/articles", json=body).get_json()["id"]
    with broken_published_at(redis_conn, article_id):
        work_off()
    job_id = redis_conn.hget(article_key(article_id), "job_id")
    again = client.post("/v1/articles", json=body)
    assert again.status_code == 200
    assert again.get_json()["status"] == "failed" and again.get_json()["attempts"] == 1
    assert again.get_json()["problem"]["type"] == "/problems/extraction-failed"
    assert queue.count == 0 and queue.scheduled_job_registry.count == 0
    assert redis_conn.hget(article_key(article_id), "job_id") == job_id, "no new job"


def test_a_transient_failure_is_queued_again_when_submitted_again(client, work_off, store, queue):
    """Given up after transient trouble (a dead worker, Redis): submitting again retries it."""
    body = {"text": SHORT_TEXT, "published_at": "2024-01-01T00:00:00Z"}
    article_id = client.post("/v1/articles", json=body).get_json()["id"]
    job_id = store.get(article_id).job_id
    assert store.start(article_id, job_id) is not None
    assert store.fail(article_id, job_id, {"type": "/problems/extraction-failed", "status": 503, "title": "x"})
    again = client.post("/v1/articles", json=body)
    assert again.status_code == 202
    assert again.get_json()["status"] == "queued" and again.get_json()["attempts"] == 0
    work_off()
    assert client.get(f"/v1/articles/{article_id}").get_json()["status"] == "done"


def test_a_timeout_is_not_retried_and_its_resubmission_queues_nothing(config, start_worker, store, queue):
    """Job timeout 1 s, 3 retries, on a text that needs longer: one attempt, failed, cached."""
    slow = dataclasses.replace(config, job_timeout=1, job_retries=3)
    start_worker(slow)
    client = create_app(slow).test_client()
    text = "\n\n".join([SEED_TEXT] * 30)
    article_id = client.post("/v1/articles", data=text, content_type="text/plain").get_json()["id"]
    job = Job.fetch(store.get(article_id).job_id, connection=queue.connection)
    # RQ settles the job (failed, or scheduled for a retry) after the article: wait for RQ.
    poll(lambda: job.get_status(refresh=True) == JobStatus.FAILED, timeout=60, what="RQ to give the job up")
    article = store.get(article_id)
    assert article.status == "failed" and article.attempts == 1
    assert article.problem["status"] == 500
    assert "job timeout" in article.problem["detail"]
    assert queue.count == 0 and queue.scheduled_job_registry.count == 0, "not retried"

    again = client.post("/v1/articles", data=text, content_type="text/plain")
    assert again.status_code == 200 and again.get_json()["status"] == "failed"
    assert queue.count == 0 and queue.scheduled_job_registry.count == 0, "nothing queued"
    assert store.get(article_id).job_id == job.id
