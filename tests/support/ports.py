"""Ports for the servers the tests start, race-free across parallel test processes.

A port the kernel hands out (bind to port 0) is free only at that moment: until the
server binds it, the other test process may be handed the same one, and any outgoing
connection may take it as its local port, since both come from the ephemeral range.
Test servers therefore take ports below that range, from a block of this test process's
own (pytest-xdist names the process ``gw0``, ``gw1``, …), in turn, skipping any that
something outside the suite holds.
"""

from __future__ import annotations

import itertools
import os
import socket
from pathlib import Path

FIRST_PORT = 20_000
BLOCK = 1_000  # ports per test process: far more than one run's servers, so none is reused soon
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _process_index() -> int:
    """0 for a serial run or ``gw0``, 1 for ``gw1``, and so on."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def _block() -> range:
    start = FIRST_PORT + _process_index() * BLOCK
    ephemeral_low = int(EPHEMERAL_RANGE.read_text().split()[0]) if EPHEMERAL_RANGE.exists() else 32_768
    if start + BLOCK > ephemeral_low:
        raise RuntimeError(f"test process {_process_index()} has no port block below the ephemeral range")
    return range(start, start + BLOCK)


_turns = itertools.cycle(_block())


def server_port() -> int:
    """The next port of this test process's block that can be bound right now."""
    for _ in range(BLOCK):
        port = next(_turns)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("every port of this test process's block is taken")
