"""A ``claimwire serve`` for the benchmarks: private Redis in a temporary folder, loopback only.

Shared by ``read_path.py`` and ``job_path.py``. The service runs as a real deployment
does (the supervisor, its workers, gunicorn); its output goes to a log file in the
temporary folder, so that a slow terminal does not slow it down.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests

from service.config import EMBEDDED_REDIS_DIR
from service.embedded_redis import free_port, recorded_url

CLAIMWIRE = str(Path(sys.executable).with_name("claimwire"))
READY_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0
MB = 1024 * 1024


@dataclass
class Service:
    """A running ``claimwire serve``: its base URL, Redis URL, API key and process."""

    base: str
    redis_url: str
    api_key: str | None
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def processes(self, command: str) -> list[psutil.Process]:
        """The running ``claimwire <command>`` processes and everything they forked."""
        found: list[psutil.Process] = []
        for child in psutil.Process(self.process.pid).children(recursive=True):
            try:
                cmdline = child.cmdline()
            except psutil.Error:
                continue
            if command in cmdline:
                found.append(child)
        return found

    def cpu_seconds(self) -> float:
        """CPU time (user and system) used so far by ``serve`` and all it started, the private Redis included."""
        root = psutil.Process(self.process.pid)
        total = 0.0
        for proc in [root, *root.children(recursive=True)]:
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def rss_mib(self, command: str) -> list[float]:
        """Resident memory of each process of ``claimwire <command>``, gunicorn's master included."""
        sizes = []
        for proc in self.processes(command):
            try:
                sizes.append(proc.memory_info().rss / MB)
            except psutil.Error:
                continue
        return sizes


@contextmanager
def serving(
    workers: int,
    env: dict[str, str] | None = None,
    with_key: bool = True,
) -> Iterator[Service]:
    """Start ``claimwire serve --workers N`` with a private Redis and (optionally) one API key."""
    with tempfile.TemporaryDirectory(prefix="claimwire-bench-") as folder:
        data_dir = Path(folder)
        log = data_dir / "serve.log"
        port = free_port()
        full_env = {
            **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
            "CLAIMWIRE_DATA_DIR": str(data_dir),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        with log.open("wb") as out:
            process = subprocess.Popen(
                [CLAIMWIRE, "serve", "--port", str(port), "--workers", str(workers)],
                env=full_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            redis_dir = data_dir / EMBEDDED_REDIS_DIR
            base = f"http://127.0.0.1:{port}"
            _wait(lambda: recorded_url(redis_dir) is not None, process, log, "the private Redis")
            redis_url = recorded_url(redis_dir) or ""
            key = None
            if with_key:
                created = subprocess.run(
                    [CLAIMWIRE, "keys", "create", "--name", "bench"],
                    env={**full_env, "REDIS_URL": redis_url},
                    check=True,
                    capture_output=True,
                    text=True,
                )
                key = next(w for w in created.stdout.split() if w.startswith("cw_"))
            _wait(lambda: _ready(base), process, log, "the service")
            yield Service(base, redis_url, key, process, log)
        finally:
            _stop(process)


def _ready(base: str) -> bool:
    try:
        return requests.get(f"{base}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _wait(check, process: subprocess.Popen[bytes], log: Path, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"claimwire serve exited before {what} was up:\n{log.read_text()[-3000:]}")
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} not up within {READY_TIMEOUT:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
