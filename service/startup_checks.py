"""What ``claimwire api`` and ``claimwire worker`` check once, before they start.

Redis first: a process started while Redis is down (a supervisor restarting it during a
Redis restart) waits for it up to a minute instead of exiting at once, so it neither
crash-loops through the supervisor's restart budget nor skips the checks below.

Persistence: a 202 promises that the article will be extracted. That promise survives
a Redis restart only with the append-only file on (``appendonly yes``), and memory
pressure only with ``maxmemory-policy noeviction``: once Redis reaches its ``maxmemory``
it refuses writes, and the API answers 503 with ``Retry-After`` having stored nothing (a
submission is one MULTI transaction, which Redis refuses whole), instead of silently
evicting queued articles. (The private Redis of ``serve`` has a ``maxmemory``,
``CLAIMWIRE_REDIS_MAXMEMORY``; without one Redis grows until the system kills it.)
``CLAIMWIRE_REDIS_CHECK`` says what to do when either setting is missing: ``warn`` (log
it), ``refuse`` (exit with the reason) or ``off``.

Authentication: anyone who can write to Redis can read every article, forge API keys
and queue jobs, so a Redis that obeys a client without credentials is worth a warning
(unless ``CLAIMWIRE_REDIS_CHECK`` is ``off``).

Access: with no API key configured the API is open to anyone who can reach it; the API
says so in its log (and in ``/readyz``).
"""

from __future__ import annotations

import logging
import time

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from service.keys import ApiKeys
from service.redis_auth import answers_without_auth

log = logging.getLogger("claimwire.startup")

REQUIRED_SETTINGS: dict[str, str] = {"appendonly": "yes", "maxmemory-policy": "noeviction"}
# How often, and how long, a starting process pings a Redis that does not answer.
REDIS_WAIT_INTERVAL = 1.0
REDIS_WAIT_LIMIT = 60.0


class PersistenceError(RuntimeError):
    """Redis is not set up to keep accepted work, and the configuration says to refuse."""


def wait_for_redis(redis: Redis) -> None:
    """Return once Redis answers; raise its last error after ``REDIS_WAIT_LIMIT`` seconds."""
    deadline = time.monotonic() + REDIS_WAIT_LIMIT
    warned = False
    while True:
        try:
            redis.ping()
            return
        except (RedisConnectionError, RedisTimeoutError) as exc:
            if time.monotonic() + REDIS_WAIT_INTERVAL > deadline:
                raise
            if not warned:
                log.warning("Redis does not answer (%s); waiting up to %.0fs for it", exc, REDIS_WAIT_LIMIT)
                warned = True
            time.sleep(REDIS_WAIT_INTERVAL)


def persistence_problems(redis: Redis) -> list[str]:
    """What in Redis's configuration could lose accepted articles (empty when all is well)."""
    try:
        found = {name: _config_value(redis, name) for name in REQUIRED_SETTINGS}
    except ResponseError:
        return ["Redis refuses CONFIG GET, so its persistence cannot be checked; make sure it "
                "runs with appendonly yes and maxmemory-policy noeviction."]
    return [
        f"Redis runs with {name} {value or '(unset)'}; set {name} {REQUIRED_SETTINGS[name]} "
        f"or accepted articles can be lost."
        for name, value in found.items()
        if value != REQUIRED_SETTINGS[name]
    ]


def check_persistence(redis: Redis, mode: str) -> None:
    """Log (``warn``) or raise :class:`PersistenceError` (``refuse``) for each problem found."""
    if mode == "off":
        return
    try:
        problems = persistence_problems(redis)
    except RedisError as exc:
        log.warning("cannot check Redis persistence now (%s); it is checked at the next start", exc)
        return
    if problems and mode == "refuse":
        raise PersistenceError(" ".join(problems) + " (CLAIMWIRE_REDIS_CHECK=refuse)")
    for problem in problems:
        log.warning("%s", problem)


def check_authentication(redis: Redis, mode: str) -> None:
    """Warn when Redis obeys a client that sends no password."""
    if mode != "off" and answers_without_auth(redis):
        log.warning(
            "Redis at %s answers without authentication: anyone who can reach it can read the articles "
            "and run jobs. Give it a password or an ACL user (requirepass, ACL SETUSER) and put it in "
            "REDIS_URL, e.g. redis://:PASSWORD@host:6379/0 or rediss://USER:PASSWORD@host:6380/0.",
            _address(redis),
        )


def announce_access(redis: Redis) -> None:
    """Say in the log whether the API needs keys; open is worth a warning."""
    try:
        keys = ApiKeys(redis)
        keyed, required = keys.any(), keys.required()
    except RedisError as exc:
        log.warning("cannot tell whether API keys are configured (%s)", exc)
        return
    if keyed:
        log.info("API keys are configured: requests need Authorization: Bearer <key>")
    elif required:
        log.warning(
            "every API key was revoked: the API stays CLOSED (every request 401) until a key is "
            "created, or `claimwire keys open` opens it to callers without a key"
        )
    else:
        log.warning(
            "no API key is configured: the API is OPEN to anyone who can reach it "
            "(create one with `claimwire keys create --name NAME`)"
        )


def _address(redis: Redis) -> str:
    """Where the client connects (host:port or socket path), without credentials."""
    kwargs = redis.get_connection_kwargs()
    return kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"


def _config_value(redis: Redis, name: str) -> str:
    reply = {k.decode() if isinstance(k, bytes) else k: v for k, v in redis.config_get(name).items()}
    value = reply.get(name, "")
    return value.decode() if isinstance(value, bytes) else value
