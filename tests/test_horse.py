"""The work-horse that outlives its job (workers.horse), with real forked processes and plain jobs."""

from __future__ import annotations

import os
import resource
import signal
import time
from pathlib import Path

import pytest

from workers import horse as horses
from workers.horse import Horse, start_horse

JOB_SECONDS_BOUND = 30.0  # a safety net for the waits below, never a timing assertion


def recording_job(folder: Path, fail_on: bytes = b"fail", sleep_on: bytes = b"sleep"):
    """A job that writes which process ran each message, fails on ``fail_on`` and hangs on ``sleep_on``."""

    def run(message: bytes) -> bool:
        (folder / message.decode()).write_text(str(os.getpid()))
        if message == sleep_on:
            time.sleep(JOB_SECONDS_BOUND)
        return message != fail_on

    return run


def ran_in(folder: Path, message: str) -> int:
    return int((folder / message).read_text())


def started(folder: Path) -> Horse:
    return start_horse(lambda: None, recording_job(folder))


def test_one_horse_runs_job_after_job_and_answers_done(tmp_path: Path) -> None:
    horse = started(tmp_path)
    for message in (b"a", b"b", b"c"):
        assert horse.send(message)
        assert horse.wait() == (horse.pid, os.EX_OK, None)
    assert {ran_in(tmp_path, m) for m in "abc"} == {horse.pid} and horse.pid != os.getpid()
    horse.retire()
    assert not horse.alive


def test_a_horse_retires_after_a_failed_job(tmp_path: Path) -> None:
    horse = started(tmp_path)
    assert horse.send(b"fail")
    pid, status, _ = horse.wait()
    assert pid == horse.pid and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert not horse.alive
    assert not horse.send(b"after")  # its pipe is closed: the worker must fork another


def test_a_horse_retires_after_its_share_of_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(horses, "JOBS_PER_HORSE", 2)
    horse = started(tmp_path)
    assert horse.send(b"a") and horse.wait() == (horse.pid, os.EX_OK, None)
    assert horse.send(b"b")
    horse.wait()
    assert not horse.alive


def test_a_horse_whose_peak_memory_doubled_retires(tmp_path: Path) -> None:
    def hungry(message: bytes) -> bool:
        size = 3 * resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        block = bytearray(size)  # zero-filled: every page touched
        return len(block) == size

    horse = start_horse(lambda: None, hungry)
    assert horse.send(b"big")
    pid, status, _ = horse.wait()
    assert pid == horse.pid and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert not horse.alive


def test_a_horse_killed_during_a_job_is_reported_with_its_signal(tmp_path: Path) -> None:
    horse = started(tmp_path)
    assert horse.send(b"sleep")
    deadline = time.monotonic() + JOB_SECONDS_BOUND
    while not (tmp_path / "sleep").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(horse.pid, signal.SIGKILL)
    pid, status, _ = horse.wait()
    assert pid == horse.pid and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert not horse.alive


def test_a_horse_killed_while_idle_refuses_the_next_job_and_is_reaped(tmp_path: Path) -> None:
    horse = started(tmp_path)
    assert horse.send(b"a") and horse.wait()[1] == os.EX_OK
    os.kill(horse.pid, signal.SIGKILL)
    os.waitid(os.P_PID, horse.pid, os.WEXITED | os.WNOWAIT)  # dead, not yet reaped
    assert not horse.send(b"b")
    assert not horse.alive
    with pytest.raises(ChildProcessError):
        os.waitpid(horse.pid, os.WNOHANG)  # already reaped: no zombie left


def test_a_horse_that_fails_to_prepare_exits_and_is_reported(tmp_path: Path) -> None:
    def broken() -> None:
        raise RuntimeError("cannot prepare")

    horse = start_horse(broken, recording_job(tmp_path))
    horse.send(b"a")  # may find the pipe already closed
    pid, status, _ = horse.wait()
    assert pid == horse.pid and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 1
    assert not (tmp_path / "a").exists()


def test_a_horse_runs_in_a_process_group_of_its_own(tmp_path: Path) -> None:
    horse = started(tmp_path)
    try:
        assert os.getpgid(horse.pid) == horse.pid != os.getpgid(0)
    finally:
        horse.retire()
