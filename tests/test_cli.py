"""The ``claimwire`` console script, run as a real process: extract, predict and serve."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import psutil
import pytest
import requests
from redis import Redis

from support.fixtures_api import REPO, SHORT_TEXT
from support.live_service import REAP_TIMEOUT, SERVE_STOP_TIMEOUT, Served, claimwire, get, post
from support.openapi_check import check_extraction
from service.embedded_redis import recorded_url
from support.seeds import SEED_FILE, SEED_TEXT
from support.waiting import log_tail, poll

COMMAND_TIMEOUT = 120.0

pytestmark = pytest.mark.slow  # every test runs claimwire as a process


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        claimwire(*args),
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=COMMAND_TIMEOUT,
        check=True,
    )


def test_extract_prints_the_claims_of_a_file() -> None:
    result = json.loads(run("extract", str(SEED_FILE), "--published-at", "2023-03-21").stdout)
    check_extraction(result)
    putin = [c for c in result["claims"] if c["claimant"] and "Putin" in c["claimant"]["text"]]
    assert any("“failed”" in c["content"]["text"] for c in putin)
    for claim in result["claims"]:
        assert SEED_TEXT[claim["content"]["start"] : claim["content"]["end"]] == claim["content"]["text"]


def test_extract_reads_stdin_and_rejects_a_bad_date() -> None:
    (claim,) = json.loads(run("extract", "-", stdin=SHORT_TEXT).stdout)["claims"]
    assert claim["claimant"]["text"] == "The minister" and "taxes would rise" in claim["content"]["text"]
    with pytest.raises(subprocess.CalledProcessError) as failed:
        run("extract", "-", "--published-at", "last Tuesday", stdin=SHORT_TEXT)
    assert failed.value.returncode == 2 and "--published-at" in failed.value.stderr


def test_predict_writes_one_line_per_gold_document_in_the_common_format(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    documents = [
        {"id": "seed-1", "source": "seed", "text": SEED_TEXT, "attributions": []},
        {"id": "short-1", "source": "short", "text": SHORT_TEXT, "attributions": []},
    ]
    gold.write_text("".join(json.dumps(doc) + "\n" for doc in documents), encoding="utf-8")
    predictions_path = tmp_path / "out" / "pred.jsonl"

    run("predict", str(gold), str(predictions_path))

    predictions = [json.loads(line) for line in predictions_path.read_text(encoding="utf-8").splitlines()]
    assert [(p["id"], p["text"]) for p in predictions] == [(d["id"], d["text"]) for d in documents]
    seed = predictions[0]["attributions"]
    assert any(
        a["source"] and a["source"]["text"] == "Vladimir Putin" and "“failed”" in a["content"]["text"] for a in seed
    )
    for prediction in predictions:
        for attribution in prediction["attributions"]:
            assert attribution["type"] in ("direct", "indirect", "mixed")
            for key in ("source", "cue", "content"):
                span = attribution[key]
                assert span is None or prediction["text"][span["start"] : span["end"]] == span["text"]
    short = predictions[1]["attributions"]
    assert [(a["source"]["text"], a["cue"]["text"]) for a in short] == [("The minister", "said")]


def test_serve_runs_redis_workers_and_api_and_sigterm_stops_them_all(served: Served, tmp_path: Path) -> None:
    session = requests.Session()
    assert get(session, f"{served.url}/healthz").json() == {"status": "ok"}
    ready = get(session, f"{served.url}/readyz").json()
    assert ready["checks"] == {"redis": "ok", "workers": 1}

    extracted = post(session, f"{served.url}/v1/extract", data=SHORT_TEXT, headers={"Content-Type": "text/plain"}, timeout=30)
    assert extracted.status_code == 200, extracted.text
    assert [c["claimant"]["text"] for c in extracted.json()["claims"]] == ["The minister"]
    assert any((tmp_path / "data" / "redis").glob("appendonly*")), "the private Redis does not persist to its AOF"

    processes = served.descendants()
    assert len(served.children_running("redis-server")) == 1
    assert len(served.children_running("worker")) == 1 and len(served.children_running("api")) == 1

    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(SERVE_STOP_TIMEOUT) == 0
    gone, alive = psutil.wait_procs(processes, timeout=REAP_TIMEOUT)
    assert alive == [], f"orphans after SIGTERM: {alive}\n{log_tail(served.log)}"
    assert "claimwire.serve: stopped" in served.log.read_text(encoding="utf-8")


def test_keys_commands_find_the_private_redis_of_a_running_serve(served: Served, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | {"CLAIMWIRE_DATA_DIR": str(data_dir)}
    (redis,) = served.children_running("redis-server")
    recorded = Redis.from_url(recorded_url(data_dir / "redis"))
    assert recorded.info("server")["process_id"] == redis.pid

    session = requests.Session()
    assert get(session, f"{served.url}/readyz").json()["access"] == "open"
    desk, archive = (run("keys", "create", "--name", name, env=env).stdout.strip() for name in ("desk", "archive"))
    rows = (line.split("\t") for line in run("keys", "list", env=env).stdout.splitlines())
    listed = {name: key_id for key_id, _created_at, name in rows}
    assert sorted(listed) == ["archive", "desk"]
    assert get(session, f"{served.url}/readyz").json()["access"] == "api-keys"
    assert get(session, f"{served.url}/v1/articles/none").status_code == 401
    for token in (desk, archive):
        assert get(session, f"{served.url}/v1/articles/none", headers={"Authorization": f"Bearer {token}"}).status_code == 404

    assert "warning" not in run("keys", "revoke", listed["desk"], env=env).stderr
    assert get(session, f"{served.url}/v1/articles/none", headers={"Authorization": f"Bearer {desk}"}).status_code == 401
    assert get(session, f"{served.url}/v1/articles/none", headers={"Authorization": f"Bearer {archive}"}).status_code == 404
    assert "stays closed" in run("keys", "revoke", listed["archive"], env=env).stderr
    assert get(session, f"{served.url}/readyz").json()["access"] == "api-keys"
    assert get(session, f"{served.url}/v1/articles/none").status_code == 401
    assert "the API is open" in run("keys", "open", env=env).stderr
    assert get(session, f"{served.url}/readyz").json()["access"] == "open"

    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(SERVE_STOP_TIMEOUT) == 0
    assert not (data_dir / "redis" / "url").exists(), "a stopped serve leaves its Redis address behind"


def test_serve_restarts_a_worker_that_dies(served: Served) -> None:
    (worker,) = served.children_running("worker")
    worker.kill()
    restarted = poll(
        lambda: served.children_running("worker"),
        lambda workers: len(workers) == 1 and workers[0].pid != worker.pid,
        COMMAND_TIMEOUT,
        "a new worker",
        served.process,
        served.log,
    )
    session = requests.Session()
    poll(
        lambda: post(session, f"{served.url}/v1/extract", data=SHORT_TEXT, headers={"Content-Type": "text/plain"}, timeout=30),
        lambda r: r.status_code == 200,
        COMMAND_TIMEOUT,
        "an extraction by the restarted worker",
    )
    assert served.children_running("worker")[0].pid == restarted[0].pid


def test_serve_stops_everything_and_fails_when_its_redis_dies(served: Served) -> None:
    (redis,) = served.children_running("redis-server")
    others = [p for p in served.descendants() if p.pid != redis.pid]
    redis.kill()
    assert served.process.wait(SERVE_STOP_TIMEOUT) == 1
    gone, alive = psutil.wait_procs(others, timeout=REAP_TIMEOUT)
    assert alive == [], f"orphans after Redis died: {alive}\n{log_tail(served.log)}"
    assert "private Redis exited" in served.log.read_text(encoding="utf-8")
