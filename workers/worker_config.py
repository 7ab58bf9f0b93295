"""The configuration of the worker running this process's jobs.

A worker is started with its :class:`~service.config.Config` (``claimwire worker``,
``serve``, or a test's own); its jobs and failure hooks use that one, set once here at
start-up and inherited by the work-horses it forks, instead of reading the environment
again for every job.
"""

from __future__ import annotations

from service.config import Config


class WorkerSettings:
    """Holds the worker's Config once :func:`use_config` was called."""

    config: Config | None = None


def use_config(config: Config) -> None:
    """Run this process's jobs and failure hooks with ``config`` (the worker's own)."""
    WorkerSettings.config = config


def worker_config() -> Config:
    """The worker's Config; a job run outside a started worker is a programming error."""
    if WorkerSettings.config is None:
        raise RuntimeError("jobs run in a worker: call workers.worker_config.use_config(config) first")
    return WorkerSettings.config
