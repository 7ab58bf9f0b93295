"""POST /v1/extract: waits for a real worker, or answers 202 when the wait runs out."""

from __future__ import annotations

import dataclasses
import time

from service.app import create_app
from support.fixtures_api import SHORT_TEXT
from support.openapi_check import CheckedClient
from support.seeds import SEED_TEXT


def test_extract_waits_for_the_claims(config, client, start_worker):
    start_worker()
    response = client.post("/v1/extract", data=SEED_TEXT, content_type="text/plain")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "done"
    assert any("9,000" in claim["content"]["text"] for claim in body["claims"])
    assert response.headers["Content-Location"] == f"/v1/articles/{body['id']}"

    no_wait = create_app(dataclasses.replace(config, extract_wait=0.0))
    no_wait.test_client_class = CheckedClient
    again = no_wait.test_client().post("/v1/extract", json={"text": SEED_TEXT})
    assert again.status_code == 200, "a cached result is answered without waiting"
    assert again.get_json()["claims"] == body["claims"]


def test_extract_answers_202_when_the_wait_runs_out(config):
    app = create_app(dataclasses.replace(config, extract_wait=0.3))
    app.test_client_class = CheckedClient
    started = time.monotonic()
    response = app.test_client().post("/v1/extract", json={"text": SHORT_TEXT})
    waited = time.monotonic() - started
    assert response.status_code == 202
    assert response.headers["Location"] == f"/v1/articles/{response.get_json()['id']}"
    assert response.get_json()["status"] == "queued"
    assert waited >= 0.3


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
