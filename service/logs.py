"""Log lines as JSON, one object a line, with the request id of whatever they are about.

Every ``claimwire`` process (API, gunicorn, worker, work-horse, supervisor) logs through
:func:`configure_logging`. Each line carries ``request_id`` (and ``article_id``) when it
belongs to a request or to the extraction job a request queued, so ``grep <request id>``
shows an article's whole path. Credentials that reach a message anyway (a Redis URL with
a password, a Bearer token) are masked before the line is written; article text is
never passed to a logger.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

# The request being served, or the job being run: set by the API's hooks and the worker's filter.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
article_id_var: ContextVar[str | None] = ContextVar("article_id", default=None)

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]*@", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[^\s\"',]+", re.IGNORECASE)
# redis-py also takes the password as a query parameter: redis://host:6379/0?password=...
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&\s\"',]+", re.IGNORECASE)
# Attributes of every LogRecord: the rest are the ``extra=`` fields a call site added.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


# ASCII only: a request path can hold U+2028 or U+0085, which some readers take for line ends.
# One encoder for every line: ``json.dumps`` with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=True, default=str)


def redact(text: str) -> str:
    """``text`` with the user and password of URLs (in the address or the query) and Bearer tokens masked.

    A pattern is run only on a text holding its ``@``, ``=`` or ``bearer``: most lines hold none.
    """
    if "@" in text:
        text = _URL_CREDENTIALS.sub(r"\g<scheme>***@", text)
    if "=" in text:
        text = _QUERY_PASSWORD.sub(r"\1***", text)
    return _BEARER.sub(r"\1***", text) if "bearer" in text.lower() else text


@lru_cache(maxsize=2)
def _utc_second(second: int) -> str:
    """A Unix second as ``YYYY-MM-DDTHH:MM:SS`` in UTC: made once a second, not once a line."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def timestamp(created: float) -> str:
    """A line's time: ISO 8601 in UTC to the millisecond, as ``datetime.isoformat`` spells it."""
    second = int(created)
    return f"{_utc_second(second)}.{int((created - second) * 1000):03d}+00:00"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, ids, and the call site's extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for name in ("request_id", "article_id"):
            value = getattr(record, name, None)
            if value:
                entry[name] = value
        entry.update(
            {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES and k not in entry and v is not None}
        )
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return _ENCODER.encode(entry)


class ContextFilter(logging.Filter):
    """Adds the current request id and article id (from the context variables) to a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get()
        if not getattr(record, "article_id", None):
            record.article_id = article_id_var.get()
        return True


def json_handler() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    return handler


def configure_logging(level: int = logging.INFO) -> None:
    """Make every logger of this process write JSON lines to stderr (replaces other handlers)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(json_handler())
    root.setLevel(level)
    skip_unused_record_fields()
    logging.captureWarnings(True)  # a library's warning (gevent's, at monkey-patching) is a JSON line too


def skip_unused_record_fields() -> None:
    """Stop every record of this process from looking up what no line shows: its call site (a walk
    up the stack), thread, process and process name. The logging HOWTO's "Optimization" section
    names these switches; they took a third of the API's per-request log line."""
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def ensure_json_logging() -> None:
    """:func:`configure_logging` unless this process already has handlers (a test runner's)."""
    if not logging.getLogger().handlers:
        configure_logging()


@contextmanager
def log_context(request_id: str | None, article_id: str | None) -> Iterator[None]:
    """Tag the log lines written inside the block (and in processes forked inside it)."""
    tokens = (request_id_var.set(request_id), article_id_var.set(article_id))
    try:
        yield
    finally:
        request_id_var.reset(tokens[0])
        article_id_var.reset(tokens[1])


def gunicorn_log_config() -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its error log as JSON lines on stderr, no access log
    (the API logs each request itself, without the query string, which can hold a signature)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"context": {"()": ContextFilter}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context"], "stream": "ext://sys.stderr"}
        },
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }
