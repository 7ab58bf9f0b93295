"""Who may talk to Redis: the password of the private Redis, and URLs with and without it.

The private Redis of ``serve`` requires a password, generated at its first start and
kept in ``<data dir>/redis/secret`` (mode 0600). It reaches the API and the workers only
in their environment (``REDIS_URL``), never on a command line or in a log: what is
logged or recorded is the address alone (:func:`redacted`). An external Redis that
answers without a password is worth a warning (:func:`answers_without_auth`).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from redis import ConnectionPool, Redis
from redis.exceptions import RedisError

from service.private_files import write_private

SECRET_FILE = "secret"
SECRET_BYTES = 32
# Anonymous probe of a Redis: short, it runs once at start-up.
PROBE_TIMEOUT = 3.0


def load_or_create_secret(data_dir: Path) -> str:
    """The password kept in ``data_dir``, created (random, 256 bits) when there is none yet."""
    path = data_dir / SECRET_FILE
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        secret = ""
    if not secret:
        secret = secrets.token_urlsafe(SECRET_BYTES)
        write_private(path, secret + "\n")
    return secret


def with_password(address: str, password: str) -> str:
    """``redis://host:port/db`` with ``password`` as the default user's."""
    parts = urlsplit(address)
    netloc = f":{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def redacted(url: str) -> str:
    """The URL without its user name and password, fit for a log."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


def answers_without_auth(redis: Redis) -> bool:
    """Whether the server behind ``redis`` obeys a client that sends no credentials."""
    pool = redis.connection_pool
    kwargs = {k: v for k, v in pool.connection_kwargs.items() if k not in ("username", "password", "credential_provider")}
    kwargs.update(socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT)
    anonymous = Redis(connection_pool=ConnectionPool(connection_class=pool.connection_class, **kwargs))
    try:
        return bool(anonymous.ping())
    except RedisError:
        return False
    finally:
        anonymous.close()
        anonymous.connection_pool.disconnect()
