"""What ``claimwire api`` and ``claimwire worker`` check once, before they start.

Persistence: a 202 promises that the article will be extracted. That promise survives
a Redis restart only with the append-only file on (``appendonly yes``), and memory
pressure only with ``maxmemory-policy noeviction`` (Redis then refuses writes, which
the API answers with a 503, instead of silently evicting queued articles).
``CLAIMWIRE_REDIS_CHECK`` says what to do when either is missing: ``warn`` (log it),
``refuse`` (exit with the reason) or ``off``.

Access: with no API key configured the API is open to anyone who can reach it; the API
says so in its log (and in ``/readyz``).
"""

from __future__ import annotations

import logging

from redis import Redis
from redis.exceptions import RedisError, ResponseError

from service.keys import ApiKeys

log = logging.getLogger("claimwire.startup")

REQUIRED_SETTINGS: dict[str, str] = {"appendonly": "yes", "maxmemory-policy": "noeviction"}


class PersistenceError(RuntimeError):
    """Redis is not set up to keep accepted work, and the configuration says to refuse."""


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


def announce_access(redis: Redis) -> None:
    """Say in the log whether the API needs keys; open is worth a warning."""
    try:
        keyed = ApiKeys(redis).any()
    except RedisError as exc:
        log.warning("cannot tell whether API keys are configured (%s)", exc)
        return
    if keyed:
        log.info("API keys are configured: requests need Authorization: Bearer <key>")
    else:
        log.warning(
            "no API key is configured: the API is OPEN to anyone who can reach it "
            "(create one with `claimwire keys create --name NAME`)"
        )


def _config_value(redis: Redis, name: str) -> str:
    reply = {k.decode() if isinstance(k, bytes) else k: v for k, v in redis.config_get(name).items()}
    value = reply.get(name, "")
    return value.decode() if isinstance(value, bytes) else value
