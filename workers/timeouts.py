"""A job timeout that cannot be swallowed.

RQ's default timeout raises from a SIGALRM handler, so the exception surfaces in
whatever Python code runs at that moment. When that is a finaliser (redis-py's
``Connection.__del__`` runs during garbage collection in the work-horse), Python
prints "Exception ignored" and the job runs on with no limit at all. Re-arming the
alarm until the penalty is cancelled makes the next signal land in ordinary code.
"""

from __future__ import annotations

import signal

from rq.timeouts import UnixSignalDeathPenalty

# Seconds between repeated alarms once the timeout has passed.
REPEAT_AFTER_TIMEOUT = 0.25


class RepeatingDeathPenalty(UnixSignalDeathPenalty):
    """RQ's signal-based job timeout, with the alarm repeating until the job ends."""

    def setup_death_penalty(self) -> None:
        if self._timeout <= 0:
            return
        signal.signal(signal.SIGALRM, self.handle_death_penalty)
        signal.setitimer(signal.ITIMER_REAL, self._timeout, REPEAT_AFTER_TIMEOUT)

    def cancel_death_penalty(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
