"""The private Redis of ``claimwire serve`` is Claimwire's alone, and a worker runs Claimwire's jobs alone.

Each test plays a local attacker against a real ``serve`` (its private Redis, a worker and
the API) started with umask 0 in a data directory that other users can reach, after an
earlier start left files there open to all: without the password, Redis answers NOAUTH;
the data directory and every file in it are private; another OS user reads neither the
append-only file nor the password (as root, through ``setpriv``); the password is on no
command line and in no log; and a job written straight into Redis that names a function
of its own choosing, or carries a pickle, ends failed without running.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.exceptions import AuthenticationError
from rq import Queue
from rq.job import Job, JobStatus

from support.fixtures_api import SHORT_TEXT
from support.live_service import Served, claimwire, post, serving
from support.ports import server_port
from support.waiting import poll
from service.embedded_redis import EmbeddedRedis, bundled_redis_server, recorded_url
from service.private_files import secure_tree
from service.queueing import EXTRACT_JOB, JOB_SERIALIZER
from service.redis_auth import redacted, with_password
from service.startup_checks import check_authentication
from workers.trusted_jobs import TrustedJob

pytestmark = pytest.mark.slow  # every test runs claimwire serve as a process

SECRET_TEXT = "The spokeswoman said that the merger talks were secret until Friday."
FOREIGN_JOB_TIMEOUT = 60.0
OTHER_USER = ("--reuid=nobody", "--regid=nogroup", "--clear-groups")
NO_RETRY = Retry(NoBackoff(), 0)  # redis-py retries a refused password for seconds otherwise


class Exposed:
    """A served instance whose data directory sits where any user could reach it."""

    def __init__(self, served: Served, data_dir: Path) -> None:
        self.served, self.data_dir = served, data_dir
        self.redis_dir = data_dir / "redis"

    @property
    def port(self) -> int:
        return int((self.redis_dir / "url").read_text(encoding="utf-8").strip().rsplit(":", 1)[1].split("/")[0])

    @property
    def secret(self) -> str:
        return (self.redis_dir / "secret").read_text(encoding="utf-8").strip()

    def redis(self) -> Redis:
        url = recorded_url(self.redis_dir)
        assert url is not None
        return Redis.from_url(url)


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exposed]:
    """``serve`` with umask 0, its data directory under a 0755 directory in /tmp, pre-filled with open files."""
    parent = Path(tempfile.mkdtemp(prefix="claimwire-security-"))
    try:
        parent.chmod(0o755)
        data_dir = parent / "data"
        (data_dir / "redis").mkdir(parents=True, mode=0o755)
        data_dir.chmod(0o755)
        (data_dir / "redis").chmod(0o755)
        for leftover in (data_dir / "notes.txt", data_dir / "redis" / "redis.log"):
            leftover.write_text("left by an earlier start\n", encoding="utf-8")
            leftover.chmod(0o644)
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(CLAIMWIRE_DATA_DIR=str(data_dir), CLAIMWIRE_API_PROCESSES="1", CLAIMWIRE_RATE_LIMIT="off")
        tmp_path = tmp_path_factory.mktemp("exposed")
        with serving(tmp_path, env, umask=0) as service:
            extracted = post(
                requests.Session(), f"{service.url}/v1/extract",
                data=SECRET_TEXT, headers={"Content-Type": "text/plain"}, timeout=60,
            )
            assert extracted.status_code == 200, extracted.text
            yield Exposed(service, data_dir)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def raw_command(port: int, line: str) -> bytes:
    """What Redis answers an inline command sent over a bare TCP socket, as bash's /dev/tcp would."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(line.encode() + b"\r\n")
        return sock.recv(4096)


def test_without_the_password_redis_answers_noauth_to_everything(exposed: Exposed) -> None:
    forged = 'HSET claimwire:apikeys forged "{}"'
    for line in ("PING", "KEYS *", "CONFIG GET requirepass", forged, "RPUSH rq:queue:claimwire forged-job"):
        assert raw_command(exposed.port, line).startswith(b"-NOAUTH"), line
    with pytest.raises(AuthenticationError):
        Redis(port=exposed.port, password="guessed", retry=NO_RETRY).ping()
    with pytest.raises(AuthenticationError):
        Redis(port=exposed.port, username="default", password="", retry=NO_RETRY).ping()
    redis = exposed.redis()
    assert redis.ping() and not redis.hexists("claimwire:apikeys", "forged")
    assert redis.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    assert int(redis.config_get("maxmemory")["maxmemory"]) == 1024**3


def test_the_data_directory_and_everything_in_it_are_private_whatever_the_umask(exposed: Exposed) -> None:
    seen = {}
    for folder, dirs, files in os.walk(exposed.data_dir):
        for name in dirs + files:
            path = Path(folder, name)
            seen[path.relative_to(exposed.data_dir).as_posix()] = stat.S_IMODE(path.lstat().st_mode)
    seen["."] = stat.S_IMODE(exposed.data_dir.stat().st_mode)
    assert {"redis/secret", "redis/url", "redis/lock", "redis/redis.log", "notes.txt"} <= set(seen)
    assert any(name.startswith("redis/appendonly") for name in seen), seen
    wrong = {
        name: oct(mode)
        for name, mode in seen.items()
        if mode != (0o700 if (exposed.data_dir / name).is_dir() else 0o600)
    }
    assert wrong == {}


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to act as another user with setpriv")
def test_another_user_reads_neither_the_aof_nor_the_password_and_gets_noauth(exposed: Exposed) -> None:
    aof = sorted(p for p in exposed.redis_dir.rglob("appendonly*") if p.is_file())
    assert any(SECRET_TEXT.encode() in p.read_bytes() for p in aof), "the AOF holds the article text"

    def as_other_user(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["setpriv", *OTHER_USER, *command], capture_output=True, text=True, timeout=30)

    assert as_other_user("id", "-u").stdout.strip() != "0"
    for path in (*aof, exposed.redis_dir / "secret", exposed.redis_dir / "url"):
        done = as_other_user("cat", str(path))
        assert done.returncode != 0 and "Permission denied" in done.stderr, path
    assert as_other_user("ls", str(exposed.data_dir)).returncode != 0
    over_tcp = f'exec 3<>/dev/tcp/127.0.0.1/{exposed.port}; printf "KEYS *\\r\\n" >&3; head -c 7 <&3'
    assert as_other_user("bash", "-c", over_tcp).stdout == "-NOAUTH"


def test_the_password_is_on_no_command_line_and_in_no_log_and_reaches_children_in_their_environment(
    exposed: Exposed,
) -> None:
    secret = exposed.secret
    assert len(secret) >= 40
    processes = [psutil.Process(exposed.served.process.pid), *exposed.served.descendants()]
    assert any(p.name() == "redis-server" for p in processes)
    for process in processes:
        assert not any(secret in arg for arg in process.cmdline()), process.cmdline()
    for log in (exposed.served.log, exposed.redis_dir / "redis.log"):
        assert secret not in log.read_text(encoding="utf-8", errors="replace"), log
    assert "private Redis at redis://127.0.0.1:" in exposed.served.log.read_text(encoding="utf-8")
    (worker,) = exposed.served.children_running("worker")
    assert secret in worker.environ()["REDIS_URL"]


def test_the_keys_commands_reach_the_password_protected_redis(exposed: Exposed) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | {"CLAIMWIRE_DATA_DIR": str(exposed.data_dir)}
    listed = subprocess.run(claimwire("keys", "list"), env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr


class RunsOnUnpickling:
    """A pickle that runs a shell command when it is loaded: what RQ's default serializer would do."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (self.command,)


def test_a_foreign_job_written_into_redis_ends_failed_and_does_not_run(exposed: Exposed, tmp_path: Path) -> None:
    redis = exposed.redis()
    queue_name = "claimwire"
    by_name, by_pickle = tmp_path / "by-name", tmp_path / "by-pickle"
    named = Queue(queue_name, connection=redis, serializer=JOB_SERIALIZER).enqueue_call(
        "os.system", args=(f"touch {by_name}",)
    )
    pickled = Queue(queue_name, connection=redis).enqueue_call(  # RQ's default serializer: pickle
        "builtins.print", args=(RunsOnUnpickling(f"touch {by_pickle}"),)
    )
    (worker,) = exposed.served.children_running("worker")

    def statuses() -> list[JobStatus | None]:
        return [Job.fetch(j.id, connection=redis, serializer=JOB_SERIALIZER).get_status() for j in (named, pickled)]

    poll(statuses, lambda s: all(status in (JobStatus.FAILED, JobStatus.FINISHED) for status in s),
         FOREIGN_JOB_TIMEOUT, "the foreign jobs to end", exposed.served.process, exposed.served.log)
    assert statuses() == [JobStatus.FAILED, JobStatus.FAILED]
    assert not by_name.exists() and not by_pickle.exists()
    failure = Job.fetch(named.id, connection=redis, serializer=JOB_SERIALIZER).latest_result()
    assert failure is not None and "not a Claimwire job" in (failure.exc_string or "")
    assert [w.pid for w in exposed.served.children_running("worker")] == [worker.pid]
    again = post(requests.Session(), f"{exposed.served.url}/v1/extract",
                 data=SHORT_TEXT, headers={"Content-Type": "text/plain"}, timeout=60)
    assert again.status_code == 200


def test_a_foreign_callback_is_neither_imported_nor_called() -> None:
    job = TrustedJob.create(EXTRACT_JOB, args=("x",), connection=Redis(port=1), serializer=JOB_SERIALIZER)
    job._success_callback_name = job._failure_callback_name = "claimwire_no_such_module.run"
    job._stopped_callback_name = "os.system"
    assert (job.success_callback, job.failure_callback, job.stopped_callback) == (None, None, None)
    foreign = TrustedJob.create("os.system", args=("true",), connection=Redis(port=1), serializer=JOB_SERIALIZER)
    with pytest.raises(RuntimeError, match="not a Claimwire job"):
        foreign.func


def test_the_start_up_check_warns_about_a_redis_that_needs_no_password(tmp_path: Path, caplog) -> None:
    port = server_port()
    server = subprocess.Popen(
        [bundled_redis_server(), "--bind", "127.0.0.1", "--port", str(port), "--save", ""],
        cwd=tmp_path, stdout=subprocess.DEVNULL,
    )
    try:
        open_redis = Redis(host="127.0.0.1", port=port, retry=NO_RETRY)
        poll(lambda: _pings(open_redis), bool, 15, "the open Redis")
        with caplog.at_level(logging.WARNING, logger="claimwire.startup"):
            check_authentication(open_redis, "warn")
        assert f"127.0.0.1:{port} answers without authentication" in caplog.text
        caplog.clear()
        check_authentication(open_redis, "off")
        assert caplog.text == ""
    finally:
        server.terminate()
        server.wait(15)
    with EmbeddedRedis(tmp_path / "private", executable=bundled_redis_server()) as private:
        with caplog.at_level(logging.WARNING, logger="claimwire.startup"):
            check_authentication(Redis.from_url(private.url), "warn")
        assert caplog.text == ""
        with pytest.raises(AuthenticationError):
            Redis(port=private.port, retry=NO_RETRY).set("k", "v")


def _pings(redis: Redis) -> bool:
    try:
        return bool(redis.ping())
    except Exception:
        time.sleep(0.05)
        return False


def test_a_url_is_logged_without_its_credentials_and_a_password_is_quoted_into_one() -> None:
    assert redacted("rediss://claimwire:s3cret@redis.example.com:6380/0") == "rediss://redis.example.com:6380/0"
    assert redacted("redis://:s3cret@127.0.0.1:6379/2") == "redis://127.0.0.1:6379/2"
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    url = with_password("redis://127.0.0.1:6379/0", "a/b@c:d")
    assert Redis.from_url(url).connection_pool.connection_kwargs["password"] == "a/b@c:d"


def test_securing_a_tree_takes_away_group_and_other_permissions_only_and_follows_no_link(tmp_path: Path) -> None:
    root, outside = tmp_path / "data", tmp_path / "outside.txt"
    (root / "sub").mkdir(parents=True)
    outside.write_text("not ours to change", encoding="utf-8")
    modes = {root: 0o755, root / "sub": 0o775, outside: 0o644}
    for path, content, mode in ((root / "sub" / "notes.txt", "n", 0o664), (root / "tool.sh", "#!/bin/sh\n", 0o755)):
        path.write_text(content, encoding="utf-8")
        modes[path] = mode
    (root / "link").symlink_to(outside)
    for path, mode in modes.items():
        path.chmod(mode)
    secure_tree(root)
    assert {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in modes} == {
        "data": "0o700", "sub": "0o700", "notes.txt": "0o600", "tool.sh": "0o700", "outside.txt": "0o644",
    }
