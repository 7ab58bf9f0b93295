"""Gunicorn serving the Flask app, configured from :class:`service.config.Config`.

The same settings as ``gunicorn service.wsgi:app``, without a gunicorn config file to
keep in step: ``CLAIMWIRE_API_PROCESSES`` worker processes of gunicorn's gevent worker
class. Each request runs in a greenlet, not a thread of a small pool, so what makes a
request wait (``POST /v1/extract`` waiting for its claims, a client sending its body
slowly) costs one greenlet and a socket, and never holds up the probes, the reads or the
other clients: a process serves up to ``CONNECTIONS_PER_PROCESS`` connections at once.
Nothing the API does between its waits is long on the CPU (the extraction runs in the
workers; decoding is bounded by the body limit and the accepted charsets).

gunicorn parses the request line and headers itself and answers what it cannot parse
(a request line or a header field over its limits, a malformed request) with an HTML
page. :class:`ProblemGeventWorker` makes those answers problem+json too, so every error
a client can get from the API has one shape.
"""

from __future__ import annotations

import gc
import json
import signal
import socket
from typing import Any

from flask import Flask
from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.workers.ggevent import GeventWorker

from service import metrics
from service.config import Config
from service.logs import gunicorn_log_config
from service.parent_death import die_with_parent
from service.problems import PROBLEM_MEDIA_TYPE, problem_body

CONNECTIONS_PER_PROCESS = 1000
HEARTBEAT_TIMEOUT = 30
GRACEFUL_TIMEOUT = 20
MAX_HEADER_FIELDS = 100
MAX_REQUEST_LINE = 8190  # gunicorn's ceiling


def write_problem(sock: socket.socket, status: int, reason: str, message: str) -> None:
    """gunicorn's ``util.write_error``, answering a problem+json instead of an HTML page."""
    body = json.dumps(problem_body(status, detail=message or None)).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: {PROBLEM_MEDIA_TYPE}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def stop_with_master(_server: Any, worker: Any) -> None:
    """gunicorn's post_fork hook: the worker stops (SIGTERM, finishing its requests) when its
    master dies, however it died, instead of serving on as an orphan."""
    die_with_parent(signal.SIGTERM, worker.ppid)


class NoAccessLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger without its access log.

    With a ``logconfig_dict`` gunicorn counts its access log as on, and for every request
    builds the log's atoms (every header and environ variable, the time formatted) before
    the ``gunicorn.access`` logger drops the line: a few percent of a cached read's CPU.
    The app logs each request itself (:mod:`service.request_log`)."""

    @property
    def access_log_enabled(self) -> bool:
        return False


class ProblemGeventWorker(GeventWorker):  # type: ignore[misc]
    """gunicorn's gevent worker whose own error responses are problems."""

    def init_process(self) -> None:
        # The worker process is ours alone: its gunicorn writes errors through util.write_error.
        util.write_error = write_problem
        super().init_process()


class ApiServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    """A gunicorn application whose WSGI app is ``service.app.create_app(config)``."""

    def __init__(self, config: Config, host: str, port: int) -> None:
        self.service_config = config
        self.options: dict[str, Any] = {
            "bind": f"{host}:{port}",
            "workers": config.api_processes,
            "worker_class": f"{__name__}.ProblemGeventWorker",
            "worker_connections": CONNECTIONS_PER_PROCESS,
            # A process whose event loop is stuck this long (no heartbeat) is restarted.
            "timeout": HEARTBEAT_TIMEOUT,
            # A header field larger than all headers may be is refused before Flask sees it.
            "limit_request_field_size": config.max_header_bytes,
            "limit_request_fields": MAX_HEADER_FIELDS,
            "limit_request_line": MAX_REQUEST_LINE,
            "graceful_timeout": GRACEFUL_TIMEOUT,
            # No access log: the app logs each request as JSON, without the query string.
            "accesslog": None,
            "errorlog": "-",
            "logconfig_dict": gunicorn_log_config(),
            "logger_class": f"{__name__}.NoAccessLogger",
            "child_exit": metrics.child_exit,
            "proc_name": "claimwire-api",
            "post_fork": stop_with_master,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        # gunicorn 27 opens a control socket at one fixed path per user by default, which
        # a second server on the machine (more `claimwire api`, the tests) would fight over.
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Flask:
        """The app, made in the gunicorn worker after the fork, then frozen out of the garbage collector.

        The imports and the app are about 55,000 objects that live as long as the process; a
        full collection that scans them takes about 40 ms, a stall of every request in the
        process. Frozen, a full collection scans only what requests left behind.
        """
        from service.app import create_app

        app = create_app(self.service_config)
        gc.collect()
        gc.freeze()
        return app


def run_api(config: Config, host: str, port: int) -> None:
    """Serve the API until gunicorn is stopped (SIGTERM / SIGINT: graceful shutdown)."""
    ApiServer(config, host, port).run()
