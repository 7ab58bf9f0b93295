"""Configuration from the environment, declared once and read in one place.

Each field of :class:`Config` is declared with :func:`setting`: its environment variable,
its default, what it means and how it is parsed. :meth:`Config.from_env` reads every
process's settings from those declarations, :func:`config_environment` writes them back
for a child process, and the README's configuration table and ``docker-compose.yml`` are
checked against them by the tests, so a new setting is one declaration here.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The private Redis of ``claimwire serve`` lives in this folder of CLAIMWIRE_DATA_DIR.
EMBEDDED_REDIS_DIR = "redis"
# What to do at start-up when Redis is not set up to keep accepted work (see service.startup_checks).
REDIS_CHECK_MODES: tuple[str, ...] = ("warn", "refuse", "off")
# What Redis's ``maxmemory`` accepts: bytes, or a number with a unit (case-insensitive).
REDIS_MEMORY_SIZE = re.compile(r"[0-9]+(?:[kmg]b?)?", re.IGNORECASE)
# A rate limit written as one of these means none.
NO_LIMIT = ("", "off")
# Seconds between webhook delivery attempts after the first: about 23 hours in all.
DEFAULT_WEBHOOK_RETRY_SCHEDULE = "5,60,300,1800,7200,18000,36000,36000"


@dataclass(frozen=True, slots=True)
class Setting:
    """How one :class:`Config` field is set from the environment, and documented."""

    env: str
    default: str  # as it would be written in the environment; "" is unset
    meaning: str  # the README's wording (Markdown)
    parse: Callable[[str, str], Any]  # (variable, value) -> the field's value
    unparse: Callable[[Any], str] = str  # the field's value -> what the environment says
    empty_is_default: bool = True  # False: an empty value means something of its own
    compose: bool = True  # passed through to Compose's api and worker containers
    default_note: str = ""  # shown after the default in the README, e.g. "(7 days)"

    def read(self, environ: Mapping[str, str]) -> Any:
        value = environ.get(self.env)
        if value is None or (value == "" and self.empty_is_default):
            value = self.default
        return self.parse(self.env, value)

    def readme_row(self) -> str:
        default = f"`{self.default}`" if self.default else "unset"
        note = f" {self.default_note}" if self.default_note else ""
        return f"| `{self.env}` | {default}{note} | {self.meaning} |"


def setting(env: str, default: str, meaning: str, parse: Callable[[str, str], Any], **options: Any) -> Any:
    """A :class:`Config` field set by the environment variable ``env``."""
    return dataclasses.field(metadata={"setting": Setting(env, default, meaning, parse, **options)})


def _str(_name: str, value: str) -> str:
    return value


def _optional_str(_name: str, value: str) -> str | None:
    return value or None


def _int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None


def _float(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {value!r}") from None


def _redis_check(name: str, value: str) -> str:
    if value not in REDIS_CHECK_MODES:
        raise ValueError(f"{name} must be one of {', '.join(REDIS_CHECK_MODES)}, not {value!r}")
    return value


def _memory_size(name: str, value: str) -> str:
    """A size as Redis's ``maxmemory`` takes it, e.g. ``1gb`` or ``512mb``."""
    value = value.strip()
    if not REDIS_MEMORY_SIZE.fullmatch(value):
        raise ValueError(f"{name} must be a size such as 512mb or 2gb, not {value!r}")
    return value.lower()


def _rate_limit(_name: str, value: str) -> str | None:
    """A limit in the notation of ``limits``, such as ``600/minute``; empty or ``off`` means no limit."""
    value = value.strip()
    return None if value.lower() in NO_LIMIT else value


def _networks(name: str, value: str) -> tuple[str, ...]:
    """Comma-separated CIDR networks (``10.0.0.0/8,fd00::/8``); empty items are dropped."""
    networks = tuple(item.strip() for item in value.split(",") if item.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ValueError(f"{name} must list networks such as 10.0.0.0/8, not {network!r}") from None
    return networks


def _ints(name: str, value: str) -> tuple[int, ...]:
    """Comma-separated whole numbers; empty items are dropped."""
    return tuple(_int(name, item.strip()) for item in value.split(",") if item.strip())


def _comma_separated(values: tuple[object, ...]) -> str:
    return ",".join(str(value) for value in values)


def _limit_or_off(value: str | None) -> str:
    return value or "off"


def _unset_if_none(value: str | None) -> str:
    return value or ""


@dataclass(frozen=True, slots=True)
class Config:
    """Settings shared by the API, the workers and the CLI."""

    redis_url: str | None = setting(
        "REDIS_URL", "",
        "Redis to use, e.g. `redis://:PASSWORD@127.0.0.1:6379/0` (see [an external Redis](#an-external-redis)). "
        "Unset: `serve` starts a private one; `api` and `worker` use `redis://127.0.0.1:6379/0`",
        _optional_str, unparse=_unset_if_none,
    )
    queue_name: str = setting(
        "CLAIMWIRE_QUEUE", "claimwire", "name of the RQ queue the API fills and the workers listen on", _str,
    )
    max_body_bytes: int = setting(
        "CLAIMWIRE_MAX_BODY_BYTES", "1000000", "largest accepted request body; above it, 413", _int,
    )
    result_ttl: int = setting(
        "CLAIMWIRE_RESULT_TTL", "604800",
        "seconds an article and its cached claims are kept after their last change", _int, default_note="(7 days)",
    )
    job_timeout: int = setting(
        "CLAIMWIRE_JOB_TIMEOUT", "300",
        "seconds one extraction may take before the job is stopped (the article fails, and is not retried)", _int,
    )
    job_retries: int = setting(
        "CLAIMWIRE_JOB_RETRIES", "3", "retries, with backoff, of a job that failed for a transient reason", _int,
    )
    extract_wait: float = setting(
        "CLAIMWIRE_EXTRACT_WAIT", "10", "seconds `POST /v1/extract` waits for the claims before answering 202", _float,
    )
    stale_after: int = setting(
        "CLAIMWIRE_STALE_AFTER", "60", "seconds within which the job of a killed worker is retried or failed", _int,
    )
    data_dir: str = setting(
        "CLAIMWIRE_DATA_DIR", "data",
        "where `serve` keeps its private Redis (`<dir>/redis`: AOF, log, password); made private at each start "
        "(no access for group or others)",
        _str, compose=False,
    )
    workers: int = setting("CLAIMWIRE_WORKERS", "2", "workers started by `serve`", _int, compose=False)
    port: int = setting(
        "PORT", "8000", "HTTP port of `serve` and `api`; in Docker Compose, the published port", _int, compose=False,
    )
    api_processes: int = setting(
        "CLAIMWIRE_API_PROCESSES", "2", "gunicorn processes of the API (gevent: up to 1,000 connections each)", _int,
    )
    rate_limit: str | None = setting(
        "CLAIMWIRE_RATE_LIMIT", "600/minute",
        "requests per API key (per client address when open), e.g. `50/second`; `off` for none",
        _rate_limit, unparse=_limit_or_off, empty_is_default=False,
    )
    max_text_chars: int = setting(
        "CLAIMWIRE_MAX_TEXT_CHARS", "500000", "longest accepted article text; above it, 422", _int,
    )
    max_header_bytes: int = setting(
        "CLAIMWIRE_MAX_HEADER_BYTES", "16384", "largest accepted request headers, all together; above it, 431", _int,
    )
    max_queue_depth: int = setting(
        "CLAIMWIRE_MAX_QUEUE_DEPTH", "10000",
        "articles waiting for a worker beyond which a new submission gets 503 + `Retry-After`", _int,
    )
    redis_check: str = setting(
        "CLAIMWIRE_REDIS_CHECK", "warn",
        "at start-up, when Redis could lose accepted work (no AOF, eviction on): `warn`, `refuse` (exit 1) or "
        "`off`; unless `off`, a Redis that answers without a password is warned about too",
        _redis_check,
    )
    redis_maxmemory: str = setting(
        "CLAIMWIRE_REDIS_MAXMEMORY", "1gb",
        "memory bound (`maxmemory`, e.g. `512mb`, `4gb`) of the private Redis of `serve` and of Compose's "
        "`redis`; when full, submissions get 503 + `Retry-After` until articles expire (`CLAIMWIRE_RESULT_TTL`)",
        _memory_size, compose=False,
    )
    body_timeout: float = setting(
        "CLAIMWIRE_BODY_TIMEOUT", "20", "seconds a request body may take to arrive in full; beyond, 408", _float,
    )
    auth_failure_limit: str | None = setting(
        "CLAIMWIRE_AUTH_FAILURE_LIMIT", "30/minute",
        "requests with a missing or wrong API key one client address may send; beyond, 429 until the window "
        "ends; `off` for none",
        _rate_limit, unparse=_limit_or_off, empty_is_default=False,
    )
    job_memory_mb: int = setting(
        "CLAIMWIRE_JOB_MEMORY_MB", "2048",
        "address space (MiB) of the work-horse that runs the extractions (a worker maps about 600 MiB with the "
        "pipeline loaded; a 500,000-character text peaks at about 1.3 GiB); an extraction that needs more fails with "
        "a problem, and the worker goes on; `0` for no bound",
        _int,
    )
    view_link_ttl: int = setting(
        "CLAIMWIRE_VIEW_LINK_TTL", "3600",
        "seconds a `links.view` page link works (its expiry is rounded up to the next 5 minutes)", _int,
    )
    view_secret: str | None = setting(
        "CLAIMWIRE_VIEW_SECRET", "",
        "secret that signs view links; unset: 32 random bytes created once in Redis (`claimwire:view-secret`)",
        _optional_str, unparse=_unset_if_none,
    )
    metrics_allow: tuple[str, ...] = setting(
        "CLAIMWIRE_METRICS_ALLOW", "127.0.0.0/8,::1/128",
        "networks (comma-separated CIDR) whose direct callers may read `/metrics`; empty: none",
        _networks, unparse=_comma_separated, empty_is_default=False,
    )
    metrics_token: str | None = setting(
        "CLAIMWIRE_METRICS_TOKEN", "",
        "when set, `Authorization: Bearer <token>` reads `/metrics` from anywhere",
        _optional_str, unparse=_unset_if_none,
    )
    metrics_dir: str | None = setting(
        "PROMETHEUS_MULTIPROC_DIR", "",
        "directory where every API process and worker writes its metrics; unset: `serve` and `api` create a "
        "private one (set one shared directory when `api` and `worker` run as separate commands on a host, "
        "as Compose does)",
        _optional_str, unparse=_unset_if_none,
    )
    fetch_allow_networks: tuple[str, ...] = setting(
        "CLAIMWIRE_FETCH_ALLOW_NETWORKS", "",
        "comma-separated CIDR networks that fetches and webhooks may reach although not public (an intranet CMS, "
        "tests on loopback); unset: public addresses only",
        _networks, unparse=_comma_separated,
    )
    fetch_ports: tuple[int, ...] = setting(
        "CLAIMWIRE_FETCH_PORTS", "80,443", "ports that article URLs and webhook URLs may use", _ints,
        unparse=_comma_separated,
    )
    fetch_timeout: float = setting(
        "CLAIMWIRE_FETCH_TIMEOUT", "10",
        "seconds for connecting and for each read of a fetch or webhook delivery; a whole request (redirects, "
        "body) gets three times that",
        _float,
    )
    fetch_max_bytes: int = setting(
        "CLAIMWIRE_FETCH_MAX_BYTES", "5000000",
        "largest page read (after decompression); beyond it the fetch fails", _int,
    )
    webhook_retry_schedule: tuple[int, ...] = setting(
        "CLAIMWIRE_WEBHOOK_RETRY_SCHEDULE", DEFAULT_WEBHOOK_RETRY_SCHEDULE,
        "seconds between webhook delivery attempts after the first (about 23 hours in all)", _ints,
        unparse=_comma_separated,
    )
    max_batch_bytes: int = setting(
        "CLAIMWIRE_MAX_BATCH_BYTES", "32000000", "largest accepted body of `POST /v1/batches`; above it, 413", _int,
    )

    @property
    def embedded_redis_dir(self) -> Path:
        """Where ``serve`` keeps its private Redis when ``REDIS_URL`` is not set."""
        return Path(self.data_dir) / EMBEDDED_REDIS_DIR

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Config":
        """The settings of this process (``environ``: ``os.environ``)."""
        given = os.environ if environ is None else environ
        return cls(**{name: declared.read(given) for name, declared in settings_by_field()})


def settings_by_field() -> Iterator[tuple[str, Setting]]:
    """Every :class:`Config` field with its declaration, in declaration order."""
    for field in dataclasses.fields(Config):
        yield field.name, field.metadata["setting"]


SETTINGS: tuple[Setting, ...] = tuple(declared for _, declared in settings_by_field())
DEFAULTS = Config.from_env({})


def config_environment(config: Config) -> dict[str, str]:
    """The environment variables that make :meth:`Config.from_env` in a child process equal ``config``."""
    return {declared.env: declared.unparse(getattr(config, name)) for name, declared in settings_by_field()}


def readme_table() -> str:
    """The README's configuration table, as the declarations say."""
    rows = "\n".join(declared.readme_row() for declared in SETTINGS)
    return f"| variable | default | meaning |\n|---|---|---|\n{rows}\n"
