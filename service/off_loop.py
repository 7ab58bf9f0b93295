"""CPU-bound work of a request, run where it does not hold up the process's other requests.

Under gunicorn's gevent workers every request of a process is a greenlet on one event
loop, so a request that computes for seconds (trafilatura turning a 1 MB page into text)
would stop every other request of that process meanwhile. :func:`off_the_event_loop`
runs such work in gevent's pool of native threads: the event loop then gets the
interpreter back at every switch interval and keeps serving. Outside gevent (the
Flask test client, the CLI) it simply calls the function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def off_the_event_loop(func: Callable[..., T], *args: object) -> T:
    """``func(*args)``, in a native thread when this process is gevent's (exceptions propagate)."""
    try:
        from gevent import get_hub, monkey
    except ImportError:  # gevent is what gunicorn's workers need; without it there is no event loop
        return func(*args)
    if not monkey.is_module_patched("threading"):
        return func(*args)
    return get_hub().threadpool.apply(func, args)
