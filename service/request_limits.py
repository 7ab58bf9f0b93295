"""Bounds on what one request may make the API read: its body and its headers.

The body limit is Flask's ``MAX_CONTENT_LENGTH`` (413). The headers are measured here
(431) so the answer is a problem like every other; gunicorn's own per-field and
request-line limits (see :mod:`service.http_server`) stop anything larger before it
reaches Flask. What the body may contain (text length, JSON depth, metadata size) is
checked where it is decoded, in :mod:`service.submission` and :mod:`service.schemas`.
"""

from __future__ import annotations

from flask import Flask, request

from service.config import Config
from service.problems import ProblemError

# Per header: the ": " and CRLF around the name and value.
HEADER_OVERHEAD = 4


def init_request_limits(app: Flask, config: Config) -> None:
    """Apply the configured body and header limits to every request."""
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes

    @app.before_request
    def bounded_headers() -> None:
        size = sum(len(name) + len(value) + HEADER_OVERHEAD for name, value in request.headers.items())
        if size > config.max_header_bytes:
            raise ProblemError(
                431, detail=f"The request headers take {size} bytes; at most {config.max_header_bytes} are accepted."
            )
