"""CPU-bound request work runs off gevent's event loop, so the loop serves others meanwhile.

Each case runs in a fresh interpreter that gevent has monkey-patched, as gunicorn's gevent
workers are. A greenlet counts its turns on the loop while the other computes; the count
seen at the start and at the end of the computation tells whether the loop ran during it.
Greenlets are cooperative, so without a native thread the count cannot move at all.

The counting greenlet waits a millisecond between turns, as a server's loop waits on its
sockets. A greenlet that never waits (``gevent.sleep(0)``) hands the interpreter lock back and
forth with the loop so often that, on some machines, the worker thread waiting for the lock
loses every race for it and the computation takes minutes: that measures the lock, not the
loop.
"""

from __future__ import annotations

import json
import subprocess
import sys

from support import REPO

PROGRAM = """
from gevent import monkey
monkey.patch_all()
import json, sys, gevent
from service.off_loop import off_the_event_loop

turns = 0

def ticker():
    global turns
    while True:
        turns += 1
        gevent.sleep(0.001)

def busy(rounds):
    start = turns
    total = 0
    for _ in range(rounds):
        total = sum(range(20_000)) + total % 7
    return turns - start

gevent.spawn(ticker)
gevent.sleep(0)
off_thread = off_the_event_loop(busy, 2_000)
on_loop = busy(2_000)
print(json.dumps({"off_thread": off_thread, "on_loop": on_loop}))
"""


def run_patched() -> dict[str, int]:
    done = subprocess.run([sys.executable, "-c", PROGRAM], cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_event_loop_runs_while_work_is_off_it_and_not_while_work_is_on_it() -> None:
    turns = run_patched()
    assert turns["on_loop"] == 0  # the control: a plain call holds the loop for its whole length
    assert turns["off_thread"] > 0


def test_without_gevent_the_function_is_simply_called() -> None:
    from service.off_loop import off_the_event_loop

    assert off_the_event_loop(divmod, 17, 5) == (3, 2)
