"""The environment variables :meth:`Config.from_env` reads, found by running it."""

from __future__ import annotations

import os
from unittest import mock

from service.config import Config


class _RecordingEnviron(dict[str, str]):
    """An empty environment that remembers every name it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(key)
        return default

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)


def config_variables() -> set[str]:
    environ = _RecordingEnviron()
    with mock.patch.object(os, "environ", environ):
        Config.from_env()
    return environ.asked
