"""Child processes that die with their parent, whatever killed it (even SIGKILL).

Linux's ``prctl(PR_SET_PDEATHSIG)`` makes the kernel send a signal to a process when the
thread that forked it exits. ``serve`` starts Redis, the workers and the API this way,
and a worker its work-horse and scheduler, so that a ``serve`` killed with SIGKILL leaves
nothing running that a new ``serve`` would fight with. Elsewhere this is a no-op.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
_fork_signals: set[signal.Signals] = set()  # what forks_die_with_us already registered


def die_with_parent(sig: signal.Signals, parent: int) -> None:
    """In a freshly forked child: receive ``sig`` when the parent dies; now if it already has."""
    if _libc is None:
        return
    if _libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")
    if os.getppid() != parent:  # the parent died between the fork and the prctl
        os.kill(os.getpid(), sig)


def preexec_dying_with_us(sig: signal.Signals) -> Callable[[], None]:
    """A ``preexec_fn`` for :class:`subprocess.Popen`: the child gets ``sig`` when this process dies."""
    return functools.partial(die_with_parent, sig, os.getpid())


def forks_die_with_us(sig: signal.Signals) -> None:
    """Every process forked from now on by this one (or by its forks) gets ``sig`` when its parent dies."""
    if sig in _fork_signals:
        return
    _fork_signals.add(sig)
    parent = [os.getpid()]

    def remember_parent() -> None:
        parent[0] = os.getpid()

    os.register_at_fork(before=remember_parent, after_in_child=lambda: die_with_parent(sig, parent[0]))
