"""/metrics after known traffic through real gunicorn (2 processes) and a real worker; JSON logs.

One grep for a request id finds the API's line for the request and the worker's lines for
the extraction it queued; no log line holds the API key or the article's text.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from support.ports import server_port
from support.waiting import poll
from service.app import create_app
from service.keys import ApiKeys
from service.logs import JsonFormatter, redact, timestamp

SECRET_WORDS = "Quetzalbrook"  # appears only in the articles' text
ARTICLES = [f"{SECRET_WORDS} {n} said that the harbour would reopen on Monday." for n in range(3)]
HEALTH_REQUESTS = 40
DONE_TIMEOUT = 90.0


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def live(config, tmp_path: Path, start_api, redis_conn):
    """2 gunicorn processes sharing a metrics directory (the worker's comes later); an API key."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    _, token = ApiKeys(redis_conn).create("metrics-test")
    url = start_api(api_processes=2, metrics_dir=str(metrics_dir))
    return url, token, dataclasses.replace(config, metrics_dir=str(metrics_dir))


def scrape(url: str) -> dict:
    response = requests.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return samples(response.text)


def test_metrics_count_the_traffic_of_every_process_and_logs_follow_the_request(live, start_worker, tmp_path):
    url, token, shared = live
    metrics_dir = Path(shared.metrics_dir)
    auth = {"Authorization": f"Bearer {token}"}
    baseline = scrape(url)  # the fixture's readiness polls came before
    for _ in range(HEALTH_REQUESTS):
        assert requests.get(f"{url}/healthz", timeout=10, headers={"Connection": "close"}).ok
    for _ in range(2):
        assert requests.get(f"{url}/v1/articles/{'0' * 32}", headers=auth, timeout=10).status_code == 404
    ids = []
    for n, text in enumerate(ARTICLES):
        posted = requests.post(f"{url}/v1/articles", json={"text": text}, headers={**auth, "X-Request-ID": f"trace-{n}"}, timeout=10)
        assert posted.status_code == 202 and posted.headers["X-Request-ID"] == f"trace-{n}"
        ids.append(posted.json()["id"])

    queued = scrape(url)  # no worker yet: all three wait
    assert value(queued, "claimwire_queue_depth") == 3
    assert value(queued, "claimwire_queue_oldest_age_seconds") > 0

    start_worker(shared)
    poll(
        lambda: [requests.get(f"{url}/v1/articles/{i}", headers=auth, timeout=10).json()["status"] for i in ids],
        lambda statuses: set(statuses) == {"done"},
        DONE_TIMEOUT,
        "the extractions",
        interval=0.2,
    )
    found = scrape(url)
    health = ("claimwire_http_requests_total", dict(method="GET", route="/healthz", status="200"))
    assert value(found, health[0], **health[1]) - value(baseline, health[0], **health[1]) == HEALTH_REQUESTS
    assert value(found, "claimwire_http_requests_total", method="GET", route="/v1/articles/{article_id}", status="404") == 2
    assert value(found, "claimwire_http_requests_total", method="POST", route="/v1/articles", status="202") == 3
    assert value(found, "claimwire_http_request_duration_seconds_count", method="POST", route="/v1/articles") == 3
    assert value(found, "claimwire_jobs_total", outcome="done") == 3
    assert value(found, "claimwire_extraction_seconds_count") == 3
    assert value(found, "claimwire_extraction_words_per_second_count") == 3
    assert value(found, "claimwire_queue_depth") == 0 and value(found, "claimwire_queue_oldest_age_seconds") == 0
    api_files = {p.name for p in metrics_dir.glob("counter_*.db")}
    assert len(api_files) >= 3, api_files  # two gunicorn processes and the worker's horses wrote samples

    api_log = (tmp_path / "api-0.log").read_text(encoding="utf-8")
    worker_log = (tmp_path / "worker-0.log").read_text(encoding="utf-8")
    api_lines = [json.loads(line) for line in api_log.splitlines() if line.strip()]
    worker_lines = [json.loads(line) for line in worker_log.splitlines() if line.strip()]  # every line is JSON
    for n, article_id in enumerate(ids):
        rid = f"trace-{n}"
        posted_line = [e for e in api_lines if e.get("request_id") == rid and e.get("route") == "/v1/articles"]
        assert len(posted_line) == 1 and posted_line[0]["article_id"] == article_id and posted_line[0]["status"] == 202
        mine = [e for e in worker_lines if e.get("request_id") == rid]
        assert any(e["msg"].startswith(f"article {article_id}: done") for e in mine)
        assert all(e.get("article_id") == article_id for e in mine)
    for log in (api_log, worker_log):
        assert SECRET_WORDS not in log
        assert token not in log


def test_a_malformed_request_id_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "no spaces allowed"})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert client.get("/healthz", headers={"X-Request-ID": "abc.DEF:1-2_3"}).headers["X-Request-ID"] == "abc.DEF:1-2_3"


@pytest.mark.parametrize(
    ("address", "headers", "allowed"),
    [
        ("127.0.0.1", {}, True),
        ("::1", {}, True),
        ("203.0.113.7", {}, False),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.7"}, False),
        ("203.0.113.7", {"Authorization": "Bearer the-metrics-token"}, True),
        ("203.0.113.7", {"Authorization": "Bearer wrong"}, False),
    ],
)
def test_who_may_read_the_metrics(config, address, headers, allowed):
    app = create_app(dataclasses.replace(config, metrics_token="the-metrics-token"))
    response = app.test_client().get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == (200 if allowed else 403)
    if not allowed:
        assert response.get_json()["type"] == "/problems/metrics-forbidden"


def test_an_unreachable_redis_is_counted(config):
    
    app = create_app(dataclasses.replace(config, redis_url=f"redis://127.0.0.1:{server_port()}/0", rate_limit=None))
    client = app.test_client()
    before = samples(client.get("/metrics").get_data(as_text=True))  # answers without Redis
    assert value(before, "claimwire_redis_up") == 0
    assert client.get(f"/v1/articles/{'0' * 32}").status_code == 503
    after = samples(client.get("/metrics").get_data(as_text=True))
    errors = ("claimwire_redis_errors_total", {"process": "api"})
    assert value(after, errors[0], **errors[1]) - value(before, errors[0], **errors[1]) == 2  # the GET and the scrape


def test_log_lines_mask_credentials():
    assert redact("Redis at redis://user:s3cret@db:6379/0") == "Redis at redis://***@db:6379/0"
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer ***"
    assert redact("redis://db:6379/0?db=1&password=s3cret&x=1") == "redis://db:6379/0?db=1&password=***&x=1"
    import logging

    record = logging.LogRecord("x", logging.INFO, "", 0, "connecting to %s", ("rediss://:pw@host:1/2",), None)
    assert "pw" not in JsonFormatter().format(record)


def test_a_log_entry_is_one_line_whatever_the_request_path_holds():
    import logging

    record = logging.LogRecord("x", logging.INFO, "", 0, "GET %s", ("/a\u2028b\x85c\nd\re\x1cf",), None)
    line = JsonFormatter().format(record)
    assert line.splitlines() == [line] and json.loads(line)["msg"] == "GET /a\u2028b\x85c\nd\re\x1cf"


@pytest.mark.slow  # starts a Python process
def test_an_empty_metrics_directory_setting_means_unset(tmp_path):
    """As for every setting; prometheus_client alone would write its files to the working directory."""
    import subprocess
    import sys

    from support.fixtures_api import REPO

    code = "from service import metrics; metrics.observe_job('done')"
    env = {"PROMETHEUS_MULTIPROC_DIR": "", "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, check=True, timeout=60)
    assert list(tmp_path.iterdir()) == []


def test_the_spec_states_the_request_id_pattern_the_code_applies():
    import yaml

    from support.openapi_check import SPEC_PATH
    from service.request_log import REQUEST_ID

    components = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))["components"]
    assert components["headers"]["RequestId"]["schema"]["pattern"] == f"^{REQUEST_ID.pattern}$"
    assert "pattern" not in components["parameters"]["RequestId"]["schema"]  # any value is accepted, and replaced


def test_log_records_skip_what_no_line_shows_and_lines_keep_all_they_show():
    """After configure_logging a record has no call site, thread or process looked up, and a
    request's line still carries every field (in a child process: the switches are global)."""
    script = """
import json, logging, sys
from service.logs import configure_logging, log_context
from service.request_log import record_request
configure_logging()
records = []
logging.getLogger().handlers[0].addFilter(lambda record: records.append(record) or True)
with log_context("req-1", "a" * 32):
    record_request("GET", "/v1/articles/{article_id}", "/v1/articles/" + "a" * 32, 200, 0.0123, "a" * 32)
seen = records[0]
print(json.dumps([seen.funcName, seen.lineno, seen.thread, seen.process]))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60,
                          cwd=Path(__file__).resolve().parent.parent)
    assert json.loads(done.stdout) == ["(unknown function)", 0, None, None]
    line = json.loads(done.stderr.strip().splitlines()[-1])
    assert {k: line[k] for k in ("msg", "method", "route", "path", "status", "duration_ms", "article_id", "request_id")} == {
        "msg": "GET /v1/articles/{article_id} 200", "method": "GET", "route": "/v1/articles/{article_id}",
        "path": "/v1/articles/" + "a" * 32, "status": 200, "duration_ms": 12.3, "article_id": "a" * 32, "request_id": "req-1",
    }


@pytest.mark.parametrize("created", [0.0, 1_700_000_000.0004, 1_796_275_926.9999, 2_000_000_000.5])
def test_a_line_time_is_iso_8601_utc_to_the_millisecond(created):
    spelled = timestamp(created)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", spelled)
    assert abs(datetime.fromisoformat(spelled).timestamp() - created) < 0.001
