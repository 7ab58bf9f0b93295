"""Outgoing HTTP through the SSRF guard: connect to the checked address, bound everything.

urllib3 is given the checked IP address as the host to connect to, and the URL's own
host name for the ``Host`` header, TLS SNI and certificate check, so the name is
resolved once (by :func:`service.fetching.guard.resolve`) and the connection cannot be
steered elsewhere by a second DNS answer. Each redirect hop is a new URL and goes
through the guard again, up to ``MAX_REDIRECTS``. Connect and read timeouts apply to
each step, a whole fetch has a deadline, and the body is read in chunks up to a byte
cap (counted after decompression, so a small gzip cannot expand without bound).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

import certifi
import urllib3
from urllib3.exceptions import HTTPError, TimeoutError as Urllib3Timeout

from service.config import Config
from service.fetching.guard import Policy, RefusedURL, Resolver, Target, resolve, system_resolver
from workers.version import EXTRACTOR_VERSION

USER_AGENT = f"Claimwire/{EXTRACTOR_VERSION} (+claim extraction)"
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 16_384
# A whole request (redirects and body included) may take this many times CLAIMWIRE_FETCH_TIMEOUT.
TOTAL_TIMEOUT_FACTOR = 3
PAGE_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds of one outgoing request (its redirects included)."""

    connect_timeout: float
    read_timeout: float
    total_timeout: float
    max_bytes: int


class FetchFailed(Exception):
    """The request did not yield a usable answer; ``reason`` is a short code, the message says more."""

    def __init__(self, reason: str, message: str, http_status: int | None = None, address_class: str | None = None):
        super().__init__(message)
        self.reason = reason  # refused-address | refused-url | http-status | timeout | too-large | content-type | network | redirects
        self.http_status = http_status
        self.address_class = address_class


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched page: where it ended up, its media type and charset, and its bytes."""

    url: str
    media_type: str
    charset: str | None
    body: bytes


@dataclass
class OutgoingHTTP:
    """Makes guarded requests with one policy and one set of limits."""

    policy: Policy
    limits: Limits
    resolver: Resolver = system_resolver

    def fetch_page(self, url: str) -> Page:
        """GET an HTML or plain-text page, following redirects; :class:`FetchFailed` otherwise."""
        deadline = time.monotonic() + self.limits.total_timeout
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(self._target(url), "GET", {"Accept": "text/html, text/plain;q=0.9"}, None, deadline)
            try:
                location = response.headers.get("Location")
                if response.status in REDIRECT_STATUSES and location:
                    url = urljoin(url, location.strip())
                    continue
                if not 200 <= response.status < 300:
                    raise FetchFailed("http-status", f"The page answered HTTP {response.status}.", response.status)
                media_type, charset = _content_type(response.headers.get("Content-Type", ""))
                if media_type not in PAGE_MEDIA_TYPES:
                    shown = media_type or "no Content-Type"
                    raise FetchFailed("content-type", f"The page is {shown}; only HTML and plain text are read.")
                return Page(url, media_type, charset, self._read(response, deadline))
            finally:
                response.release_conn()
        raise FetchFailed("redirects", f"More than {MAX_REDIRECTS} redirects.")

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST ``body`` without following redirects; the response status (its body is read and dropped)."""
        deadline = time.monotonic() + self.limits.total_timeout
        response = self._send(self._target(url), "POST", headers, body, deadline)
        try:
            self._read(response, deadline)
        except FetchFailed as exc:
            if exc.reason != "too-large":
                raise
        finally:
            response.release_conn()
        return response.status

    def _target(self, url: str) -> Target:
        try:
            return resolve(url, self.policy, self.resolver)
        except RefusedURL as exc:
            reason = "refused-address" if exc.address_class else "refused-url"
            raise FetchFailed(reason, str(exc), address_class=exc.address_class) from None

    def _send(
        self, target: Target, method: str, headers: Mapping[str, str], body: bytes | None, deadline: float
    ) -> urllib3.BaseHTTPResponse:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _timeout(self.limits)
        timeout = urllib3.Timeout(
            connect=min(self.limits.connect_timeout, remaining), read=min(self.limits.read_timeout, remaining)
        )
        pool = _pool(target, timeout)
        all_headers = {"Host": target.host_header, "User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate", **headers}
        try:
            return pool.urlopen(
                method, target.target, body=body, headers=all_headers,
                redirect=False, retries=False, preload_content=False, decode_content=True,
            )
        except Urllib3Timeout:
            raise _timeout(self.limits) from None
        except HTTPError as exc:
            raise FetchFailed("network", f"Could not reach {target.host}:{target.port}: {_root_cause(exc)}.") from None

    def _read(self, response: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
        cap = self.limits.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FetchFailed("too-large", f"The body is {declared} bytes; at most {cap} are read.")
        chunks, size = [], 0
        try:
            for chunk in response.stream(CHUNK_BYTES):
                size += len(chunk)
                if size > cap:
                    raise FetchFailed("too-large", f"The body is larger than {cap} bytes.")
                if time.monotonic() > deadline:
                    raise _timeout(self.limits)
                chunks.append(chunk)
        except Urllib3Timeout:
            raise _timeout(self.limits) from None
        except HTTPError as exc:
            raise FetchFailed("network", f"The connection broke while reading: {_root_cause(exc)}.") from None
        return b"".join(chunks)


def _pool(target: Target, timeout: urllib3.Timeout) -> urllib3.HTTPConnectionPool:
    """A one-off pool connecting to the checked address, speaking to the URL's host name."""
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address, target.port, timeout=timeout, retries=False, maxsize=1,
            cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(),
            server_hostname=target.host, assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False, maxsize=1)


def _content_type(value: str) -> tuple[str, str | None]:
    media_type, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, val = param.partition("=")
        if name.strip().lower() == "charset" and val.strip():
            charset = val.strip().strip('"')
    return media_type.strip().lower(), charset


def _timeout(limits: Limits) -> FetchFailed:
    return FetchFailed(
        "timeout",
        f"No answer in time (connect {limits.connect_timeout:g} s, read {limits.read_timeout:g} s, "
        f"whole request {limits.total_timeout:g} s).",
    )


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or getattr(exc, "reason", None) is not None:
        nxt = exc.__cause__ or getattr(exc, "reason", None)
        if not isinstance(nxt, BaseException) or nxt is exc:
            break
        exc = nxt
    return str(exc) or type(exc).__name__


def outgoing_http(config: Config) -> OutgoingHTTP:
    """Guarded HTTP with the configured policy (ports, allowed networks) and limits."""
    limits = Limits(
        connect_timeout=config.fetch_timeout,
        read_timeout=config.fetch_timeout,
        total_timeout=config.fetch_timeout * TOTAL_TIMEOUT_FACTOR,
        max_bytes=config.fetch_max_bytes,
    )
    return OutgoingHTTP(Policy.from_settings(config.fetch_ports, config.fetch_allow_networks), limits)
