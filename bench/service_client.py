"""The command line of a benchmark that drives a running service: its URL, a run count, a session.

The session sends ``CLAIMWIRE_API_KEY`` as a bearer key when it is set, so a benchmark runs
against a service that needs a key as against an open one.
"""

from __future__ import annotations

import argparse
import os

import requests


def service_session(description: str, default_runs: int) -> tuple[str, int, requests.Session]:
    """The base URL (no trailing slash) and ``--runs`` from the command line, and the session."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("base", help="the service's base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--runs", type=int, default=default_runs)
    args = parser.parse_args()
    session = requests.Session()
    key = os.environ.get("CLAIMWIRE_API_KEY")
    if key:
        session.headers["Authorization"] = f"Bearer {key}"
    return args.base.rstrip("/"), args.runs, session
