"""The job timeout survives an alarm that lands where Python swallows exceptions."""

from __future__ import annotations

import signal
import time

import pytest
from rq.timeouts import JobTimeoutException

from workers.timeouts import RepeatingDeathPenalty

SPIN_LIMIT_SECONDS = 60.0  # a safety net: without the repeated alarm the job would spin this long


class _SwallowsInFinaliser:
    """Spins inside ``__del__``, where an exception raised by a signal handler is lost."""

    def __del__(self) -> None:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            pass


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the swallowed first alarm
def test_a_timeout_swallowed_by_a_finaliser_fires_again() -> None:
    started = time.monotonic()
    with pytest.raises(JobTimeoutException):
        with RepeatingDeathPenalty(1, JobTimeoutException):
            _SwallowsInFinaliser()  # dropped at once: its __del__ spans the first alarm
            while time.monotonic() - started < SPIN_LIMIT_SECONDS:
                pass


def test_a_finished_job_leaves_no_alarm_behind() -> None:
    with RepeatingDeathPenalty(1, JobTimeoutException):
        pass
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0), "an alarm is still armed"
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
