"""The gunicorn application: what each API process does once, when it loads the app."""

from __future__ import annotations

import gc

from flask import Flask
from gunicorn.glogging import Logger

from service.config import Config
from service.http_server import ApiServer, NoAccessLogger


def test_the_loaded_app_is_frozen_out_of_the_garbage_collector(config: Config) -> None:
    """A full collection then skips the process's long-lived objects instead of scanning them all."""
    frozen_before = gc.get_freeze_count() > 0  # a burst worker in this test process froze its pipeline
    gc.unfreeze()
    try:
        app = ApiServer(config, "127.0.0.1", 0).load()
        assert isinstance(app, Flask)
        assert gc.get_freeze_count() > 0
        assert not any(o is app for o in gc.get_objects())  # the collector lists no frozen object
    finally:
        gc.unfreeze()
        if frozen_before:
            gc.freeze()


def test_gunicorn_builds_no_access_log_line(config: Config) -> None:
    """The app logs each request itself; gunicorn's logger, configured as the server runs, skips its own."""
    server = ApiServer(config, "127.0.0.1", 0)
    assert Logger(server.cfg).access_log_enabled, "gunicorn's own logger would build the line"
    logger = server.cfg.logger_class(server.cfg)
    assert isinstance(logger, NoAccessLogger)
    assert not logger.access_log_enabled
