"""Configuration from the environment, read in one place.

Every process (API, worker, CLI) builds a :class:`Config` with :meth:`Config.from_env`
so the README's configuration table and the code cannot drift apart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_RATE_LIMIT = "600/minute"
# What to do at start-up when Redis is not set up to keep accepted work (see service.startup_checks).
REDIS_CHECK_MODES: tuple[str, ...] = ("warn", "refuse", "off")
# The private Redis of ``claimwire serve`` lives in this folder of CLAIMWIRE_DATA_DIR.
EMBEDDED_REDIS_DIR = "redis"
DEFAULT_FETCH_PORTS: tuple[int, ...] = (80, 443)
# Seconds between webhook delivery attempts after the first: about 23 hours in all.
DEFAULT_WEBHOOK_RETRY_SCHEDULE: tuple[int, ...] = (5, 60, 300, 1800, 7200, 18000, 36000, 36000)


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _choice(name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first is the default); anything else is a start-up error."""
    value = os.environ.get(name) or choices[0]
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _list(name: str) -> tuple[str, ...]:
    """A comma-separated list; empty items are dropped."""
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def _ints(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """A comma-separated list of integers; unset or empty means ``default``."""
    return tuple(int(item) for item in _list(name)) or default


def _rate_limit(value: str) -> str | None:
    """A flask-limiter limit string such as ``600/minute``; empty or ``off`` means no limit."""
    value = value.strip()
    return None if value.lower() in ("", "off") else value


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
    max_text_chars: int
    max_header_bytes: int
    max_queue_depth: int
    rate_limit: str | None
    redis_check: str
    fetch_allow_networks: tuple[str, ...] = ()
    fetch_ports: tuple[int, ...] = DEFAULT_FETCH_PORTS
    fetch_timeout: float = 10.0
    fetch_max_bytes: int = 5_000_000
    webhook_retry_schedule: tuple[int, ...] = DEFAULT_WEBHOOK_RETRY_SCHEDULE
    max_batch_bytes: int = 32_000_000

    @property
    def embedded_redis_dir(self) -> Path:
        """Where ``serve`` keeps its private Redis when ``REDIS_URL`` is not set."""
        return Path(self.data_dir) / EMBEDDED_REDIS_DIR

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
            max_text_chars=_int("CLAIMWIRE_MAX_TEXT_CHARS", 500_000),
            max_header_bytes=_int("CLAIMWIRE_MAX_HEADER_BYTES", 16_384),
            max_queue_depth=_int("CLAIMWIRE_MAX_QUEUE_DEPTH", 10_000),
            rate_limit=_rate_limit(os.environ.get("CLAIMWIRE_RATE_LIMIT", DEFAULT_RATE_LIMIT)),
            redis_check=_choice("CLAIMWIRE_REDIS_CHECK", REDIS_CHECK_MODES),
            fetch_allow_networks=_list("CLAIMWIRE_FETCH_ALLOW_NETWORKS"),
            fetch_ports=_ints("CLAIMWIRE_FETCH_PORTS", DEFAULT_FETCH_PORTS),
            fetch_timeout=_float("CLAIMWIRE_FETCH_TIMEOUT", 10.0),
            fetch_max_bytes=_int("CLAIMWIRE_FETCH_MAX_BYTES", 5_000_000),
            webhook_retry_schedule=_ints("CLAIMWIRE_WEBHOOK_RETRY_SCHEDULE", DEFAULT_WEBHOOK_RETRY_SCHEDULE),
            max_batch_bytes=_int("CLAIMWIRE_MAX_BATCH_BYTES", 32_000_000),
        )
