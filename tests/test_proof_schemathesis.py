"""Proof: schemathesis against openapi.yaml on the running service, with API keys in force.

gunicorn serves the API on loopback, with one API key configured and a real worker, so
that articles can end ``done``. Schemathesis runs all its phases (examples, coverage,
fuzzing, stateful) and every check, including ``ignored_auth`` (requests without the key
must be refused). Its exit status is 0 only with no failure: no server error and no
response that breaks the spec. The requests are counted in gunicorn's access log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis

from service.keys import ApiKeys
from support.fixtures_api import WorkerFactory
from support.fixtures_http import ApiFactory

pytestmark = pytest.mark.slow  # a proof

TESTS = Path(__file__).resolve().parent
SCHEMATHESIS = str(Path(sys.executable).with_name("st"))
MAX_EXAMPLES = 100
SEED = 20261125
RUN_TIMEOUT = 600  # seconds for all phases on every operation (20)
MIN_REQUESTS = 1_000
REQUEST_LOGGER = "claimwire.request"


def test_schemathesis_finds_no_server_error_and_no_spec_violation(
    start_api: ApiFactory, start_worker: WorkerFactory, redis_conn: Redis, tmp_path: Path
):
    _, token = ApiKeys(redis_conn).create("schemathesis")
    start_worker()
    url = start_api(api_processes=2, rate_limit="100000/minute", auth_failure_limit="100000/minute", extract_wait=2.0)
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "support.schemathesis_hooks",
        "PYTHONPATH": str(TESTS),
        "CLAIMWIRE_TEST_API_KEY": token,
    }
    run = subprocess.run(
        [
            SCHEMATHESIS, "--config-file", str(TESTS / "support" / "schemathesis.toml"),
            "run", f"{url}/openapi.yaml",
            "--checks", "all",
            "--max-examples", str(MAX_EXAMPLES),
            "--seed", str(SEED),
            "--request-timeout", "30",
            "--no-color",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    log = next(tmp_path.glob("api-*.log")).read_text(encoding="utf-8", errors="replace")
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    statuses = [e["status"] for e in entries if e.get("logger") == REQUEST_LOGGER]
    server_errors = [s for s in statuses if s >= 500]
    summary = run.stdout[run.stdout.find("SUMMARY"):] if "SUMMARY" in run.stdout else run.stdout[-3000:]
    print(f"\nschemathesis: {len(statuses)} requests, {len(server_errors)} answered 5xx, exit {run.returncode}\n{summary}")
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert len(statuses) >= MIN_REQUESTS
    assert server_errors == []
