"""Helpers for tests that run ``claimwire`` commands as real processes and talk HTTP to them.

The ``served`` fixture (registered in conftest.py) is a ready ``claimwire serve``, stopped at
teardown with everything it started; :func:`serving` runs one with an environment of the
test's choosing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from support.openapi_check import check_requests_response
from support.ports import server_port
from support.waiting import poll

CLAIMWIRE = str(Path(sys.executable).with_name("claimwire"))  # the installed console script
HTTP_TIMEOUT = 10.0
SERVE_READY_TIMEOUT = 90.0
SERVE_STOP_TIMEOUT = 60.0
REAP_TIMEOUT = 10.0


def claimwire(*args: str) -> list[str]:
    return [CLAIMWIRE, *args]


def get(session: requests.Session, url: str, **kwargs: Any) -> requests.Response:
    """A GET whose response is checked against openapi.yaml."""
    kwargs.setdefault("timeout", HTTP_TIMEOUT)
    response = session.get(url, **kwargs)
    check_requests_response(response)
    return response


def post(session: requests.Session, url: str, **kwargs: Any) -> requests.Response:
    """A POST whose response is checked against openapi.yaml."""
    kwargs.setdefault("timeout", HTTP_TIMEOUT)
    response = session.post(url, **kwargs)
    check_requests_response(response)
    return response


class Served:
    """A ``claimwire serve`` process and the processes it started."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process, self.url, self.log = process, url, log

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def children_running(self, role: str) -> list[psutil.Process]:
        """Direct children running ``role``: a claimwire subcommand ("worker", "api") or "redis-server"."""
        found = []
        for child in psutil.Process(self.process.pid).children():
            try:
                if child.name() == role or role in child.cmdline()[1:]:
                    found.append(child)
            except psutil.NoSuchProcess:
                continue
        return found


@contextmanager
def serving(tmp_path: Path, env: Mapping[str, str], workers: int = 1, umask: int = -1) -> Iterator[Served]:
    """``claimwire serve`` with ``env`` and ``workers`` workers on a free port, once ready.

    ``umask`` is the one ``serve`` starts with (-1: this process's).

    On the way out it is stopped (SIGTERM), and whatever it started that is left is killed.
    """
    port = server_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            claimwire("serve", "--port", str(port), "--workers", str(workers)),
            env={**env, "PYTHONUNBUFFERED": "1"},
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            umask=umask,
        )
    service = Served(process, f"http://127.0.0.1:{port}", log)
    started: list[psutil.Process] = []
    try:
        poll(
            lambda: requests.get(f"{service.url}/readyz", timeout=2),
            lambda r: r.status_code == 200,
            SERVE_READY_TIMEOUT,
            "readiness of the served API",
            process,
            log,
        )
        started = service.descendants()
        yield service
    finally:
        leftovers = started + service.descendants()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(SERVE_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(REAP_TIMEOUT)
        for leftover in leftovers:
            try:
                leftover.kill()
            except psutil.NoSuchProcess:
                pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """``claimwire serve`` without REDIS_URL, one worker, one API process, on a free port; ready."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(CLAIMWIRE_DATA_DIR=str(tmp_path / "data"), CLAIMWIRE_API_PROCESSES="1")
    with serving(tmp_path, env) as service:
        yield service
