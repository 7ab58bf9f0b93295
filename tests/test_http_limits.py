"""Over a real gunicorn: oversized and malformed requests get problems, never HTML or a 5xx."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest
import requests

from support.fixtures_http import ApiFactory

TIMEOUT = 10.0


def raw_exchange(url: str, payload: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the whole answer (gunicorn closes after an error)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines)}
    return int(status_line.split()[1]), headers, body


@pytest.fixture
def small_headers_api(start_api: ApiFactory) -> str:
    return start_api(api_processes=1, max_header_bytes=4_096)


def test_a_header_field_over_the_limit_is_431_problem_from_gunicorn(small_headers_api):
    response = requests.get(f"{small_headers_api}/healthz", headers={"X-Big": "x" * 5_000}, timeout=TIMEOUT)
    assert response.status_code == 431
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 431


def test_headers_over_the_limit_all_together_are_431_problem_from_the_app(small_headers_api):
    headers = {f"X-Part-{i}": "x" * 1_000 for i in range(6)}
    response = requests.post(f"{small_headers_api}/v1/articles", json={"text": "A said B."}, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 431
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"GET /" + b"a" * 9_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"\x00\xff\xfe garbage \x01\x02\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Name: y\r\n\r\n", 400),
    ],
    ids=["long-request-line", "binary", "bad-header-name"],
)
def test_requests_gunicorn_cannot_parse_get_a_problem(small_headers_api, payload, status):
    got, headers, body = raw_exchange(small_headers_api, payload)
    assert got == status
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == status
