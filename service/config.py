"""Configuration from the environment, read in one place.

Every process (API, worker, CLI) builds a :class:`Config` with :meth:`Config.from_env`
so the README's configuration table and the code cannot drift apart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


@dataclass(frozen=True, slots=True)
class Config:
    """Settings shared by the API, the workers and the CLI."""

    redis_url: str | None
    queue_name: str
    max_body_bytes: int
    result_ttl: int
    job_timeout: int
    job_retries: int
    extract_wait: float
    stale_after: int
    data_dir: str
    workers: int
    port: int
    api_processes: int

    @classmethod
    def from_env(cls) -> "Config":
        return cls(
            redis_url=os.environ.get("REDIS_URL") or None,
            queue_name=os.environ.get("CLAIMWIRE_QUEUE", "claimwire"),
            max_body_bytes=_int("CLAIMWIRE_MAX_BODY_BYTES", 1_000_000),
            result_ttl=_int("CLAIMWIRE_RESULT_TTL", 7 * 24 * 3600),
            job_timeout=_int("CLAIMWIRE_JOB_TIMEOUT", 300),
            job_retries=_int("CLAIMWIRE_JOB_RETRIES", 3),
            extract_wait=_float("CLAIMWIRE_EXTRACT_WAIT", 10.0),
            stale_after=_int("CLAIMWIRE_STALE_AFTER", 60),
            data_dir=os.environ.get("CLAIMWIRE_DATA_DIR", "data"),
            workers=_int("CLAIMWIRE_WORKERS", 2),
            port=_int("PORT", 8000),
            api_processes=_int("CLAIMWIRE_API_PROCESSES", 2),
        )
