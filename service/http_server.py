"""Gunicorn serving the Flask app, configured from :class:`service.config.Config`.

The same settings as ``gunicorn service.wsgi:app``, without a gunicorn config file to
keep in step: ``CLAIMWIRE_API_PROCESSES`` worker processes, each with a few threads so
that requests waiting on ``POST /v1/extract`` do not block the others.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from service.config import Config

THREADS_PER_PROCESS = 4
GRACEFUL_TIMEOUT = 20


class ApiServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    """A gunicorn application whose WSGI app is ``service.app.create_app(config)``."""

    def __init__(self, config: Config, host: str, port: int) -> None:
        self.service_config = config
        self.options: dict[str, Any] = {
            "bind": f"{host}:{port}",
            "workers": config.api_processes,
            "worker_class": "gthread",
            "threads": THREADS_PER_PROCESS,
            # Above the longest request: POST /v1/extract waits up to extract_wait.
            "timeout": int(config.extract_wait) + 30,
            "graceful_timeout": GRACEFUL_TIMEOUT,
            "accesslog": "-",
            "errorlog": "-",
            "proc_name": "claimwire-api",
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
        from service.app import create_app  # in the gunicorn worker, after the fork

        return create_app(self.service_config)


def run_api(config: Config, host: str, port: int) -> None:
    """Serve the API until gunicorn is stopped (SIGTERM / SIGINT: graceful shutdown)."""
    ApiServer(config, host, port).run()
