"""The one way a test waits: poll for a condition, bounded in time, failing with what it saw."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests


def log_tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-chars:] if path.exists() else "(no log)"


def poll(
    fetch: Callable[[], Any],
    done: Callable[[Any], bool] = bool,
    timeout: float = 60.0,
    what: str = "the condition",
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
    interval: float = 0.05,
) -> Any:
    """Call ``fetch`` until ``done(result)`` and return that result.

    Fail after ``timeout`` seconds (a safety net: what a test asserts is the condition, not
    how soon it holds), or as soon as ``process`` exits. A connection refused while a
    server is starting, or an answer slower than the fetch's timeout (its listening socket
    already accepts, its workers are still importing), counts as not done yet.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process exited ({process.returncode}) before {what}:\n{log_tail(log) if log else ''}")
        try:
            last = fetch()
        except (requests.ConnectionError, requests.Timeout) as exc:
            last = exc
        else:
            if done(last):
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}\n{log_tail(log) if log else ''}")
