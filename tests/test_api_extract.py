"""POST /v1/extract: waits for a real worker, or answers 202 when the wait runs out."""

from __future__ import annotations

import dataclasses
import time

from fixtures_api import SEED_TEXT, SHORT_TEXT
from openapi_check import CheckedClient
from service.app import create_app


def test_extract_waits_for_the_claims(client, start_worker):
    start_worker()
    response = client.post("/v1/extract", data=SEED_TEXT, content_type="text/plain")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "done"
    assert any("9,000" in claim["content"]["text"] for claim in body["claims"])
    assert response.headers["Content-Location"] == f"/v1/articles/{body['id']}"

    started = time.monotonic()
    again = client.post("/v1/extract", json={"text": SEED_TEXT})
    assert again.status_code == 200 and again.get_json()["claims"] == body["claims"]
    assert time.monotonic() - started < 1.0, "a cached result is answered without waiting"


def test_extract_answers_202_when_the_wait_runs_out(config):
    app = create_app(dataclasses.replace(config, extract_wait=0.3))
    app.test_client_class = CheckedClient
    started = time.monotonic()
    response = app.test_client().post("/v1/extract", json={"text": SHORT_TEXT})
    waited = time.monotonic() - started
    assert response.status_code == 202
    assert response.headers["Location"] == f"/v1/articles/{response.get_json()['id']}"
    assert response.get_json()["status"] == "queued"
    assert 0.3 <= waited < 3.0


def test_extract_reports_a_failed_extraction_as_its_problem(config, start_worker):
    failing = dataclasses.replace(config, job_timeout=1, job_retries=0, extract_wait=30.0)
    start_worker(failing)
    app = create_app(failing)
    app.test_client_class = CheckedClient
    response = app.test_client().post("/v1/extract", data="\n\n".join([SEED_TEXT] * 30), content_type="text/plain")
    assert response.status_code == 500  # a timeout is the text's own failure, not a transient one
    problem = response.get_json()
    assert problem["type"] == "/problems/extraction-failed"
    assert "timeout" in problem["detail"]
    assert problem["instance"].startswith("/v1/articles/")
