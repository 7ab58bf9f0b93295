"""``claimwire serve`` killed with SIGKILL takes its whole stack with it, and one data directory has one ``serve``.

Against real ``serve`` processes: after kill -9 of ``serve`` in the middle of an
extraction, no process it started (Redis, the worker, its work-horse and scheduler, the
webhook delivery worker and its scheduler, the API and its gunicorn worker) is left after a bounded wait; a work-horse dies with its
worker; a second ``serve`` on the same data directory refuses to start while the first
one lives, leaving the first intact, and starts, with the first one's data, once the
first was killed with SIGKILL.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import psutil
import requests

from support.seeds import SEED_TEXT
from support.live_service import Served, claimwire, get, post, serving
from support.ports import server_port
from support.waiting import log_tail, poll

pytestmark = pytest.mark.slow  # every test runs claimwire serve as a process

LONG_TEXT = "\n\n".join([SEED_TEXT] * 25)  # seconds of extraction: a work-horse to catch at work
STATUS_TIMEOUT = 60.0
REAP_BOUND = 30.0  # Redis writes its AOF, gunicorn finishes its requests: seconds at most
REFUSE_TIMEOUT = 60.0


def serve_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(CLAIMWIRE_DATA_DIR=str(data_dir), CLAIMWIRE_API_PROCESSES="1", CLAIMWIRE_RATE_LIMIT="off")
    return env


def submit_long_article(served: Served) -> str:
    """Submit an article that takes seconds to extract; its URL once a work-horse runs it."""
    session = requests.Session()
    response = post(session, f"{served.url}/v1/articles", data=LONG_TEXT, headers={"Content-Type": "text/plain"})
    assert response.status_code == 202, response.text
    url = f"{served.url}{response.headers['Location']}"
    poll(lambda: get(session, url).json()["status"], lambda s: s == "running", STATUS_TIMEOUT,
         "the extraction to start", served.process, served.log)
    return url


def work_horse(served: Served) -> psutil.Process:
    """The worker's child in a process group of its own (its scheduler stays in the worker's)."""
    (worker,) = served.children_running("worker")
    found = poll(
        lambda: [c for c in worker.children() if os.getpgid(c.pid) != os.getpgid(worker.pid)],
        lambda horses: len(horses) == 1, STATUS_TIMEOUT, "the work-horse",
    )
    return found[0]


def test_kill_9_of_serve_mid_extraction_leaves_no_process_behind(tmp_path: Path) -> None:
    with serving(tmp_path, serve_env(tmp_path / "data")) as served:
        submit_long_article(served)
        horse = work_horse(served)
        stack = served.descendants()
        names = {p.name() for p in stack}
        assert "redis-server" in names and horse in stack and len(stack) >= 6, names  # + scheduler, gunicorn worker
        assert set(served.children_running("webhook-worker")) <= set(stack) and served.children_running("webhook-worker")
        served.process.kill()
        served.process.wait()
        _, alive = psutil.wait_procs(stack, timeout=REAP_BOUND)
        assert alive == [], f"left running after kill -9 of serve: {alive}\n{log_tail(served.log)}"


def test_a_work_horse_dies_with_its_worker(tmp_path: Path) -> None:
    with serving(tmp_path, serve_env(tmp_path / "data")) as served:
        submit_long_article(served)
        horse = work_horse(served)
        (worker,) = served.children_running("worker")
        worker.kill()
        _, alive = psutil.wait_procs([horse], timeout=REAP_BOUND)
        assert alive == [], "the work-horse outlived its worker"


def test_a_second_serve_refuses_while_the_first_lives_and_takes_over_after_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = serve_env(data_dir)
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    with serving(first_dir, env) as first:
        session = requests.Session()
        kept = post(session, f"{first.url}/v1/extract", data="The mayor said the bridge would reopen in May.",
                    headers={"Content-Type": "text/plain"}, timeout=60)
        assert kept.status_code == 200, kept.text
        url_file = (data_dir / "redis" / "url").read_text(encoding="utf-8")

        second = subprocess.run(
            claimwire("serve", "--port", str(server_port()), "--workers", "1"),
            env=env, cwd=second_dir, capture_output=True, text=True, timeout=REFUSE_TIMEOUT,
        )
        assert second.returncode == 1
        assert f"is in use by the Redis that process {first.process.pid} started" in second.stderr, second.stderr
        assert (data_dir / "redis" / "url").read_text(encoding="utf-8") == url_file
        assert get(session, f"{first.url}/readyz").status_code == 200
        assert len([p for p in first.descendants() if p.name() == "redis-server"]) == 1

        stack = first.descendants()
        first.process.kill()
        first.process.wait()
        _, alive = psutil.wait_procs(stack, timeout=REAP_BOUND)
        assert alive == [], alive

    with serving(second_dir, env) as taken_over:
        article = get(requests.Session(), f"{taken_over.url}/v1/articles/{kept.json()['id']}")
        assert article.status_code == 200 and article.json()["status"] == "done"
        redis_servers = [p for p in psutil.process_iter(["name", "cwd"]) if p.info["name"] == "redis-server"
                         and p.info["cwd"] == str((data_dir / "redis").resolve())]
        assert len(redis_servers) == 1
