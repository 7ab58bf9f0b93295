"""Bounds on what one request may make the API read: its body and its headers.

The body is read by :func:`read_body`, whole or not at all: at most
``CLAIMWIRE_MAX_BODY_BYTES`` (else 413, announced by its Content-Length or found while
reading a chunked body, which Flask's own ``MAX_CONTENT_LENGTH`` would silently cut at
the limit) and within ``CLAIMWIRE_BODY_TIMEOUT`` seconds (else 408), so a client that
trickles its body cannot hold the connection longer. The headers are measured here (431)
so the answer is a problem like every other; gunicorn's own per-field and request-line
limits (see :mod:`service.http_server`) stop anything larger before it reaches Flask.
What the body may contain (text length, JSON depth, metadata size) is checked where it
is decoded, in :mod:`service.submission` and :mod:`service.schemas`.
"""

from __future__ import annotations

import socket
import time
from typing import IO

from flask import Flask, request
from werkzeug.wrappers import Request

from service.config import Config
from service.problems import BODY_TIMEOUT, MALFORMED_BODY, ProblemError

# Per header: the ": " and CRLF around the name and value.
HEADER_OVERHEAD = 4
# The environ key of a body the hot layer read already (:mod:`service.hot_resubmissions`), or of
# the problem reading it raised: the view's read takes it instead of reading the stream again.
PRE_READ = "claimwire.pre_read_body"
BODY_CHUNK_BYTES = 64 * 1024


def init_request_limits(app: Flask, config: Config) -> None:
    """Apply the configured header limit to every request (the body's is :func:`read_body`'s)."""

    @app.before_request
    def bounded_headers() -> None:
        size = sum(len(name) + len(value) + HEADER_OVERHEAD for name, value in request.headers.items())
        if size > config.max_header_bytes:
            raise ProblemError(
                431, detail=f"The request headers take {size} bytes; at most {config.max_header_bytes} are accepted."
            )


def read_body(req: Request, config: Config, limit: int | None = None) -> bytes:
    """The whole body: 413 past ``limit`` bytes (``max_body_bytes`` unless given), 408 when it
    takes over ``body_timeout`` s, 400 when the client stops sending before its end.

    Under gunicorn the body is read from the client's socket as it is asked for; the
    socket's timeout is set to what is left of the time allowed before every read (and
    put back afterwards), so one request never waits on its body for longer.
    """
    limit = config.max_body_bytes if limit is None else limit
    pre_read: bytes | ProblemError | None = req.environ.pop(PRE_READ, None)
    if isinstance(pre_read, ProblemError):
        raise pre_read
    if pre_read is not None:
        if len(pre_read) > limit:
            raise _too_large(limit)
        return pre_read
    if req.content_length is not None and req.content_length > limit:
        raise _too_large(limit)
    environ = req.environ
    # gunicorn ends its input stream itself (Content-Length or chunked); werkzeug's wrapper
    # around it would turn a timeout into a client disconnection.
    stream: IO[bytes] = environ["wsgi.input"] if environ.get("wsgi.input_terminated") else req.stream
    sock: socket.socket | None = environ.get("gunicorn.socket")
    restore = sock.gettimeout() if sock is not None else None
    deadline = time.monotonic() + config.body_timeout
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= limit:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _too_slow(config.body_timeout)
            if sock is not None:
                sock.settimeout(remaining)
            chunk = stream.read(min(BODY_CHUNK_BYTES, limit + 1 - size))
            if not chunk:
                if req.content_length not in (None, size):
                    raise _cut_short()
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
    except TimeoutError:
        raise _too_slow(config.body_timeout) from None
    except OSError:  # gunicorn's NoMoreData: a chunked body cut short
        raise _cut_short() from None
    finally:
        if sock is not None:
            sock.settimeout(restore)
    raise _too_large(limit)


def _too_large(limit: int) -> ProblemError:
    return ProblemError(413, detail=f"The body is larger than {limit} bytes.")


def _cut_short() -> ProblemError:
    return ProblemError(400, MALFORMED_BODY, "The connection ended before the whole body arrived.")


def _too_slow(timeout: float) -> ProblemError:
    return ProblemError(408, BODY_TIMEOUT, f"The body did not arrive in full within {timeout:g} seconds.")
