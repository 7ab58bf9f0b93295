"""The RQ job class of Claimwire's workers: it calls only Claimwire's own functions.

RQ imports and calls whatever dotted path a job in Redis names, as its function or as
a callback. :class:`TrustedJob` refuses any name that is not on the allow-lists of
:mod:`service.queueing` before importing anything: a job naming another function
fails (:class:`ForeignJobError`) without running, and a callback naming another
function is not called. Its data is read with the JSON serializer, so reading a job
runs no code either.
"""

from __future__ import annotations

import logging
from typing import Any

from rq.job import Job

from service.queueing import JOB_CALLBACKS, JOB_FUNCTIONS

log = logging.getLogger(__name__)


class ForeignJobError(RuntimeError):
    """A job names a function that is not one of Claimwire's jobs."""


class TrustedJob(Job):
    """An RQ job whose function and callbacks must be on Claimwire's allow-lists."""

    @property
    def func(self) -> Any:
        if self.instance is not None or self.func_name not in JOB_FUNCTIONS:
            raise ForeignJobError(f"job {self.id} names {self.func_name!r}, which is not a Claimwire job; not run")
        return super().func

    @property
    def success_callback(self) -> Any:
        return super().success_callback if self._trusted_callback("success", self._success_callback_name) else None

    @property
    def failure_callback(self) -> Any:
        return super().failure_callback if self._trusted_callback("failure", self._failure_callback_name) else None

    @property
    def stopped_callback(self) -> Any:
        return super().stopped_callback if self._trusted_callback("stopped", self._stopped_callback_name) else None

    def _trusted_callback(self, kind: str, name: str | None) -> bool:
        """Whether the named callback may be called (no name: RQ's own None applies)."""
        if name is None or name in JOB_CALLBACKS:
            return True
        log.warning("job %s: %s callback %r is not a Claimwire callback; not called", self.id, kind, name)
        return False
