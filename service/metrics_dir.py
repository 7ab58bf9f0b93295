"""Where the processes of one service share their metrics (prometheus_client's multiprocess mode).

Kept apart from :mod:`service.metrics` because it must run before prometheus_client is
imported: the library decides at import whether values live in files of this directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def forget_empty_setting() -> None:
    """An empty ``PROMETHEUS_MULTIPROC_DIR`` means unset, as for every setting; prometheus_client
    would take it for the current directory."""
    if MULTIPROC_ENV in os.environ and not os.environ[MULTIPROC_ENV]:
        del os.environ[MULTIPROC_ENV]


@contextmanager
def private_multiproc_dir() -> Iterator[None]:
    """Give this process and its children a fresh metrics directory unless one is set."""
    if os.environ.get(MULTIPROC_ENV):
        yield
        return
    path = tempfile.mkdtemp(prefix="claimwire-metrics-")
    os.environ[MULTIPROC_ENV] = path
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)
