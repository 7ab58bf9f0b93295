"""``claimwire serve``: Redis (when none is given), N workers and the API as one command.

Each child runs in a session of its own, so Ctrl-C at the terminal reaches this
supervisor alone, which then stops the children in order: the API and the workers
first (SIGTERM: gunicorn finishes its requests, an RQ worker its current job), then
the private Redis they were using. A child still running after the grace period is
killed together with its whole process group (the RQ scheduler, a work-horse).

When ``serve`` itself dies, however (even SIGKILL), its children die too
(:mod:`service.parent_death`): Redis and the API get SIGTERM (Redis writes its AOF,
gunicorn finishes its requests), a worker SIGKILL, as if it had crashed, which RQ
recovers from (its job is retried by a live worker), and which takes its work-horse
with it. ``serve`` runs with a private umask and makes its data directory private
(:mod:`service.private_files`); the password of its Redis reaches the children in
``REDIS_URL`` and is never logged.

Policy when a child dies unexpectedly: a worker or the API is restarted, at most
``MAX_RESTARTS`` times within ``RESTART_WINDOW`` seconds each; beyond that, or when the
private Redis dies, everything is stopped and ``serve`` exits with status 1, so an
outer supervisor (systemd, Docker) sees the failure instead of a half-working service.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from service.config import Config
from service.embedded_redis import DataDirInUse, EmbeddedRedis
from service.metrics_dir import private_multiproc_dir
from service.parent_death import preexec_dying_with_us
from service.private_files import PRIVATE_UMASK, secure_tree
from service.redis_auth import redacted

log = logging.getLogger("claimwire.serve")

POLL_INTERVAL = 0.2
STOP_GRACE = 30.0
KILL_WAIT = 5.0
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0


@dataclass
class Child:
    """One supervised command and its current process."""

    name: str
    argv: list[str]
    death_signal: signal.Signals
    process: subprocess.Popen[bytes] | None = None
    restarts: deque[float] = field(default_factory=deque)

    def start(self, env: Mapping[str, str]) -> None:
        self.process = subprocess.Popen(
            self.argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=preexec_dying_with_us(self.death_signal),
        )
        log.info("started %s (pid %d)", self.name, self.process.pid)

    def may_restart(self, now: float) -> bool:
        """Record a restart; False when there were too many within the window."""
        while self.restarts and now - self.restarts[0] > RESTART_WINDOW:
            self.restarts.popleft()
        self.restarts.append(now)
        return len(self.restarts) <= MAX_RESTARTS


def cli_command(*args: str) -> list[str]:
    """A ``claimwire`` subcommand run with this interpreter (no need for the script on PATH)."""
    return [sys.executable, "-m", "service.cli", *args]


class Supervisor:
    """Runs the children until a signal asks it to stop, or until it gives up on one."""

    def __init__(self, children: Sequence[Child], env: Mapping[str, str], redis: EmbeddedRedis | None = None) -> None:
        self.children = list(children)
        self.env = env
        self.redis = redis
        self.stopping = False

    def run(self) -> int:
        """Start everything, watch it, stop it; the exit status of ``serve``."""
        previous = {sig: signal.signal(sig, self._request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for child in self.children:
                child.start(self.env)
            status = self._watch()
        finally:
            self._stop_children()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("stopped")
        return status

    def _request_stop(self, signum: int, _frame: object) -> None:
        log.info("%s received, stopping", signal.Signals(signum).name)
        self.stopping = True

    def _watch(self) -> int:
        while not self.stopping:
            if self.redis is not None and self.redis.process is not None and self.redis.process.poll() is not None:
                log.error("the private Redis exited (see %s); stopping", self.redis.log_path)
                return 1
            for child in self.children:
                assert child.process is not None
                code = child.process.poll()
                if code is None:
                    continue
                _kill_group(child.process.pid, signal.SIGKILL)  # what it left behind
                if not child.may_restart(time.monotonic()):
                    log.error("%s exited with %s too often; stopping", child.name, code)
                    return 1
                log.warning("%s exited with %s; restarting it", child.name, code)
                child.start(self.env)
            time.sleep(POLL_INTERVAL)
        return 0

    def _stop_children(self) -> None:
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("pid %d did not stop within %.0fs; killing it", process.pid, STOP_GRACE)
        for child in self.children:
            if child.process is not None:
                _kill_group(child.process.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.process.wait(KILL_WAIT)


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    """Signal a child's process group: whatever the child started and left behind."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def serve(config: Config, host: str, port: int, workers: int) -> int:
    """Run the whole service; returns when stopped (0) or when it gave up (1)."""
    os.umask(PRIVATE_UMASK)
    with private_multiproc_dir():
        return _serve(config, host, port, workers)


def _serve(config: Config, host: str, port: int, workers: int) -> int:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    children = [Child(f"worker-{i + 1}", cli_command("worker"), signal.SIGKILL) for i in range(workers)]
    children.append(Child("webhook-worker", cli_command("webhook-worker"), signal.SIGKILL))
    children.append(Child("api", cli_command("api", "--host", host, "--port", str(port)), signal.SIGTERM))
    if config.redis_url:
        log.info("Redis at %s; %d workers; API on http://%s:%d", redacted(config.redis_url), workers, host, port)
        return Supervisor(children, env).run()
    secure_tree(config.data_dir)
    redis = EmbeddedRedis(config.embedded_redis_dir, maxmemory=config.redis_maxmemory)
    try:
        redis.start()
    except DataDirInUse as exc:
        log.error("%s", exc)
        return 1
    try:
        log.info(
            "private Redis at %s (data in %s, maxmemory %s); %d workers; API on http://%s:%d",
            redis.address, redis.data_dir, redis.maxmemory, workers, host, port,
        )
        return Supervisor(children, {**env, "REDIS_URL": redis.url}, redis).run()
    finally:
        redis.stop()
