"""A work-horse that outlives its job: forked once from the warm worker, it runs job after job.

RQ forks a work-horse per job. The fork is cheap, but the new process then copies, page by
page, every page of the worker's heap that it writes to (copy-on-write), and tears them
all down again at exit: measured on the 60-document job-path set, 15–45 ms per job on top
of an extraction of about 200 ms, and two workers' horses contend in the kernel's memory
management. A horse that stays keeps the pages it copied: from its second job on, an
extraction runs as fast as in a warm process.

Isolation is what it was: the horse is a process of its own, in a process group of its
own, so a crash, the OOM killer or a ``kill -9`` takes the horse and the job it runs, never
the worker. The worker reads the horse's replies from a pipe; when the pipe closes without
one, the horse is gone, the worker reaps it and reports its death as RQ does for any dead
work-horse, and the next job gets a new horse. A horse retires after a job RQ saw fail (a
timeout, Redis trouble: none of its state carries over), after a job that took its peak
memory past ``GROWTH_LIMIT`` times what it was at birth (a huge article, or one that ran out
of memory: the heap it leaves is returned to the system), and after ``JOBS_PER_HORSE``
jobs, so that what extractions leave behind (spaCy's string store grows with every new
word) cannot accumulate without bound.
"""

from __future__ import annotations

import itertools
import logging
import os
import resource
import signal
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

# Jobs one horse runs before it retires; the fork and its copy-on-write are then paid once per this many.
JOBS_PER_HORSE = 100
# A horse whose peak resident memory has grown past this multiple of its size at birth retires.
GROWTH_LIMIT = 2.0
# One-byte replies of the horse after each job.
DONE = b"d"
RETIRING = b"r"
# A message (one job) is written whole: below PIPE_BUF, a pipe write is atomic.
MAX_MESSAGE = 4096

# What os.wait4 returns: pid, wait status, resource usage.
WaitResult = tuple[int, int, Any]


class Horse:
    """The worker's handle on its horse: the process and the two ends of the pipes to it."""

    def __init__(self, pid: int, to_horse: int, from_horse: int) -> None:
        self.pid = pid
        self._to_horse = to_horse
        self._from_horse = from_horse
        self._retiring = False
        self.alive = True

    def send(self, message: bytes) -> bool:
        """Hand the horse a job; False when the horse has died since its last job (it is then reaped)."""
        if len(message) >= MAX_MESSAGE:
            raise ValueError("a job message must fit one atomic pipe write")
        if not self.alive:
            return False
        try:
            os.write(self._to_horse, message)
        except BrokenPipeError:
            self._reap()
            return False
        return True

    def wait(self) -> WaitResult:
        """Wait for the job sent last: a live horse that finished it answers ``(pid, 0, None)``.

        Otherwise the horse has ended (retired after the job, or died during it) and its
        own wait status is returned, as ``os.wait4`` gives it for a horse RQ forked per job.
        A signal handler that raises (RQ's monitoring alarm) may interrupt the wait; calling
        it again resumes it.
        """
        if not self._retiring:
            reply = os.read(self._from_horse, 1)
            if reply == DONE:
                return self.pid, os.EX_OK, None
            self._retiring = True
        return self._reap()

    def retire(self) -> None:
        """End an idle horse (the worker is stopping): it holds nothing that needs a goodbye."""
        if not self.alive:
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._reap()

    def _reap(self) -> WaitResult:
        if self.alive:  # close once: a second close could hit a descriptor reused since
            os.close(self._to_horse)
            os.close(self._from_horse)
        self.alive = False
        try:
            return os.wait4(self.pid, 0)
        except ChildProcessError:  # already reaped
            return self.pid, 0, None


def start_horse(prepare: Callable[[], None], run_job: Callable[[bytes], bool]) -> Horse:
    """Fork a horse that calls ``prepare`` once, then ``run_job`` on every message until it retires.

    ``run_job`` returns whether the job succeeded. The horse goes into a process group of its
    own, as RQ's do, so that signals meant for the worker's group do not reach it.
    """
    inbox, to_horse = os.pipe()
    from_horse, outbox = os.pipe()
    pid = os.fork()
    if pid == 0:  # the horse
        status = 1
        try:
            os.close(to_horse)
            os.close(from_horse)
            os.setpgrp()
            prepare()
            _serve(inbox, outbox, run_job)
            status = 0
        except BaseException:
            log.exception("work-horse %d: ended by an error", os.getpid())
        finally:
            os._exit(status)
    try:  # both sides set the group, so that it is the horse's own before either goes on
        os.setpgid(pid, pid)
    except OSError:  # the horse has set it already, or has died (its wait reports that)
        pass
    os.close(inbox)
    os.close(outbox)
    log.info("work-horse %d forked", pid)
    return Horse(pid, to_horse, from_horse)


def _serve(inbox: int, outbox: int, run_job: Callable[[bytes], bool]) -> None:
    """Run jobs until the worker closes the pipe, or the horse retires (see the module's docstring)."""
    birth_size = _peak_memory()
    for served in itertools.count(1):
        message = os.read(inbox, MAX_MESSAGE)
        if not message:  # the worker closed its end
            return
        succeeded = run_job(message)
        reason = _retirement(succeeded, served, _peak_memory() / birth_size)
        os.write(outbox, DONE if reason is None else RETIRING)
        if reason is not None:
            log.info("work-horse %d: retiring after %d jobs (%s)", os.getpid(), served, reason)
            return


def _retirement(succeeded: bool, served: int, growth: float) -> str | None:
    """Why the horse retires after this job, or None when it goes on."""
    if not succeeded:
        return "the job failed"
    if growth > GROWTH_LIMIT:
        return f"its peak memory grew {growth:.1f}-fold"
    if served >= JOBS_PER_HORSE:
        return "its share of jobs"
    return None


def _peak_memory() -> int:
    """This process's peak resident memory (KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
