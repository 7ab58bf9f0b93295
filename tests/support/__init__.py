"""Helpers of the test suite: fixtures, live processes, waiting, the spec check, the seed article."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
