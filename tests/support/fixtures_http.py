"""A real ``claimwire api`` (gunicorn) on a free loopback port, on the test Redis and queue."""

from __future__ import annotations

import dataclasses
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from service.config import Config
from support.fixtures_api import REPO, config_env, stop_process_tree
from support.live_service import claimwire
from support.ports import server_port
from support.waiting import poll

API_START_TIMEOUT = 30.0

ApiFactory = Callable[..., str]


@pytest.fixture
def start_api(config: Config, tmp_path: Path) -> Iterator[ApiFactory]:
    """Start ``claimwire api`` with ``config`` changed by the keyword arguments; its base URL once it answers."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**changes: object) -> str:
        port = server_port()
        log = tmp_path / f"api-{len(started)}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                claimwire("api", "--port", str(port)),
                env=config_env(dataclasses.replace(config, **changes)),
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        poll(lambda: requests.get(f"{url}/healthz", timeout=2), lambda r: r.ok, API_START_TIMEOUT, "gunicorn", process, log)
        return url

    yield start
    for process in started:  # SIGQUIT: gunicorn's quick shutdown; a graceful one waits out idle keep-alives
        stop_process_tree(process, signal.SIGQUIT)


@pytest.fixture
def api_url(start_api: ApiFactory) -> str:
    """``claimwire api`` with one gunicorn process and the test configuration."""
    return start_api(api_processes=1)
