"""Articles by URL and by HTML: pages served from loopback, fetched by a real RQ worker, and
the SSRF guard that keeps every other fetch away from non-public addresses."""

from __future__ import annotations

import dataclasses
import gzip
import ipaddress
import shutil
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote

import pytest

from service.app import create_app
from service.config import Config
from service.fetching.client import FetchFailed, Limits, OutgoingHTTP
from service.fetching.guard import Policy, RefusedURL, address_refusal, resolve
from service.keys import ApiKeys
from service.store import connect
from support import REPO
from support.fixtures_api import burst_worker
from support.loopback_http import base_url, loopback_server
from support.openapi_check import CheckedClient

NEWS_PAGE = (REPO / "tests" / "data" / "news_page.html").read_bytes()
SLOW_SECONDS = 3.0


class Pages(BaseHTTPRequestHandler):
    """The pages a newsroom CMS could serve, and some it should not."""

    hits: list[tuple[str, str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        Pages.hits.append((self.path, self.headers.get("Host", "")))
        route = {
            "/news": lambda: self._send(200, "text/html; charset=utf-8", NEWS_PAGE),
            "/plain": lambda: self._send(200, "text/plain", b"The mayor said that the bridge would reopen."),
            "/gzip-bomb": lambda: self._send(200, "text/html", gzip.compress(b" " * 5_000_000), {"Content-Encoding": "gzip"}),
            "/pdf": lambda: self._send(200, "application/pdf", b"%PDF-1.4"),
            "/missing": lambda: self._send(404, "text/html", b"<p>gone</p>"),
            "/slow": self._slow,
            "/huge": self._huge,
            "/loop": lambda: self._send(302, "text/plain", b"", {"Location": "/loop"}),
            "/hop": lambda: self._send(301, "text/plain", b"", {"Location": "/news"}),
        }
        if self.path.startswith("/to?"):
            self._send(302, "text/plain", b"", {"Location": unquote(self.path.split("?", 1)[1])})
        else:
            route.get(self.path, lambda: self._send(404, "text/plain", b"no such page"))()

    def _send(self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _slow(self) -> None:
        time.sleep(SLOW_SECONDS)
        try:
            self._send(200, "text/html", NEWS_PAGE)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the fetcher gave up first, as it should

    def _huge(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()  # no Content-Length: the cap must hold while streaming
        try:
            for _ in range(200):
                self.wfile.write(b"<p>" + b"x" * 65_536 + b"</p>")
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def pages() -> Iterator[str]:
    Pages.hits = []
    with loopback_server(Pages) as server:
        yield base_url(server)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


@pytest.fixture
def open_config(config: Config, pages: str) -> Config:
    """The test's configuration, allowed to fetch from loopback (as an intranet CMS would be)."""
    return dataclasses.replace(
        config, fetch_allow_networks=("127.0.0.0/8",), fetch_ports=(80, 443, port_of(pages)),
        fetch_timeout=1.0, fetch_max_bytes=1_000_000,
    )


@pytest.fixture
def work_off(open_config: Config) -> Callable[[], None]:
    """The module's worker fetches as the test's configuration allows (loopback pages)."""
    return burst_worker(open_config)


@pytest.fixture
def fetch_client(open_config: Config, monkeypatch: pytest.MonkeyPatch) -> CheckedClient:
    """An API client whose app and in-process worker both use ``open_config``."""
    monkeypatch.setattr(Config, "from_env", classmethod(lambda cls, environ=None: open_config))
    app = create_app(open_config)
    app.test_client_class = CheckedClient
    return app.test_client()


def loopback_http(ports: tuple[int, ...], allowed: tuple[str, ...] = ("127.0.0.1/32",), timeout: float = 1.0,
                  resolver=None) -> OutgoingHTTP:
    limits = Limits(connect_timeout=timeout, read_timeout=timeout, total_timeout=3 * timeout, max_bytes=1_000_000)
    policy = Policy.from_settings(ports, allowed)
    return OutgoingHTTP(policy, limits, resolver) if resolver else OutgoingHTTP(policy, limits)


# --- the guard on its own --------------------------------------------------------------

DEFAULT_POLICY = Policy.from_settings((80, 443), ())

LITERAL_ATTEMPTS = [
    ("http://127.0.0.1/", "loopback"),
    ("http://2130706433/", "loopback"),  # decimal
    ("http://0x7f000001/", "loopback"),  # hex
    ("http://0x7f.0.0.1/", "loopback"),  # dotted hex
    ("http://0177.0.0.1/", "loopback"),  # octal
    ("http://017700000001/", "loopback"),  # octal, one number
    ("http://127.1/", "loopback"),  # short form
    ("http://0/", "unspecified"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::1]/", "loopback"),
    ("http://[0:0:0:0:0:0:0:1]/", "loopback"),
    ("http://[::]/", "unspecified"),
    ("http://[::ffff:127.0.0.1]/", "IPv6 carrying a loopback IPv4 address"),  # IPv4-mapped
    ("http://[::ffff:7f00:1]/", "IPv6 carrying a loopback IPv4 address"),
    ("http://[::127.0.0.1]/", "IPv6 carrying a loopback IPv4 address"),  # IPv4-compatible
    ("http://[::ffff:a9fe:a9fe]/", "IPv6 carrying a link-local IPv4 address"),
    ("http://[64:ff9b::10.0.0.1]/", "IPv6 carrying a private IPv4 address"),  # NAT64
    ("http://[2002:7f00:1::]/", "IPv6 carrying a loopback IPv4 address"),  # 6to4
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo (IPv4 tunnel)"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata
    ("http://2852039166/", "link-local"),  # 169.254.169.254 in decimal
    ("http://[fe80::1]/", "link-local"),
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://0xc0a80101/", "private"),  # 192.168.1.1 in hex
    ("http://[fd00::1]/", "private"),
    ("http://100.64.0.1/", "non-global"),  # shared address space
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "private"),
    ("http://255.255.255.255/", "private"),
    ("http://192.0.2.10/", "private"),  # documentation
    ("http://localhost/", "loopback"),
    ("http://localhost./", "loopback"),
    ("http://LOCALHOST/", "loopback"),
]


@pytest.mark.parametrize(("url", "address_class"), LITERAL_ATTEMPTS)
def test_the_guard_refuses_every_notation_of_a_non_public_address(url: str, address_class: str) -> None:
    with pytest.raises(RefusedURL) as refused:
        resolve(url, DEFAULT_POLICY)
    assert refused.value.address_class == address_class


@pytest.mark.parametrize(
    "answers",
    [["10.1.2.3"], ["93.184.216.34", "127.0.0.1"], ["2606:4700::1", "::ffff:192.168.0.1"], ["169.254.169.254"], ["fe80::1%eth0"]],
)
def test_a_name_is_refused_when_any_address_it_resolves_to_is_not_public(answers: list[str]) -> None:
    with pytest.raises(RefusedURL, match="which is not fetched"):
        resolve("https://cms.newsroom.example/story", DEFAULT_POLICY, lambda host, port: answers)


def test_a_public_name_is_pinned_to_the_address_that_was_checked() -> None:
    target = resolve("https://news.example/a?b=1#frag", DEFAULT_POLICY, lambda host, port: ["93.184.216.34"])
    assert (target.address, target.host, target.port, target.target) == ("93.184.216.34", "news.example", 443, "/a?b=1")
    assert target.host_header == "news.example"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://93.184.216.34/", "Only http and https"),
        ("file:///etc/passwd", "Only http and https"),
        ("gopher://93.184.216.34:70/", "Only http and https"),
        ("http://93.184.216.34:8080/", "Port 8080 is not allowed"),
        ("http://93.184.216.34:22/", "Port 22 is not allowed"),
        ("http://user:pw@93.184.216.34/", "credentials"),
        ("http://93.184.216.34\r\nHost: x/", "whitespace or control"),
    ],
)
def test_the_guard_refuses_other_schemes_ports_and_forms(url: str, message: str) -> None:
    with pytest.raises(RefusedURL, match=message):
        resolve(url, DEFAULT_POLICY, lambda host, port: ["93.184.216.34"])


def test_public_addresses_pass_and_an_allowed_network_lets_its_addresses_through() -> None:
    assert address_refusal(ipaddress.ip_address("93.184.216.34")) is None
    assert address_refusal(ipaddress.ip_address("2606:4700::1")) is None
    intranet = Policy.from_settings((80,), ("10.20.0.0/16",))
    assert resolve("http://10.20.3.4/", intranet).address == "10.20.3.4"
    with pytest.raises(RefusedURL):
        resolve("http://10.21.3.4/", intranet)


# --- the fetcher against a loopback server ------------------------------------------------


def test_the_fetcher_connects_to_the_checked_address_and_sends_the_urls_host(pages: str) -> None:
    port = port_of(pages)
    http = loopback_http((port,), resolver=lambda host, p: ["127.0.0.1"])
    page = http.fetch_page(f"http://cms.newsroom.example:{port}/news")
    assert page.media_type == "text/html" and page.body == NEWS_PAGE
    assert Pages.hits == [("/news", f"cms.newsroom.example:{port}")]


def test_with_the_allow_list_off_nothing_private_is_fetched(pages: str) -> None:
    port = port_of(pages)
    http = loopback_http((port,), allowed=())
    for host in ("127.0.0.1", "localhost", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]", "127.1"):
        with pytest.raises(FetchFailed) as failed:
            http.fetch_page(f"http://{host}:{port}/news")
        assert failed.value.reason == "refused-address"
    assert Pages.hits == []


@pytest.mark.parametrize(
    "private",
    ["http://127.0.0.2/news", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]/news",
     "http://0x7f000002/"],
)
def test_a_redirect_to_a_non_public_address_is_refused(pages: str, private: str) -> None:
    http = loopback_http((80, port_of(pages)))  # only 127.0.0.1 itself is allowed
    with pytest.raises(FetchFailed) as failed:
        http.fetch_page(f"{pages}/to?{private}")
    assert failed.value.reason == "refused-address"
    assert len(Pages.hits) == 1 and Pages.hits[0][0].startswith("/to?")


@pytest.mark.parametrize(
    ("path", "reason", "http_status"),
    [
        ("/missing", "http-status", 404),
        ("/pdf", "content-type", None),
        ("/slow", "timeout", None),
        ("/huge", "too-large", None),
        ("/gzip-bomb", "too-large", None),
        ("/loop", "redirects", None),
    ],
)
def test_failed_fetches_say_why(pages: str, path: str, reason: str, http_status: int | None) -> None:
    http = loopback_http((port_of(pages),))
    with pytest.raises(FetchFailed) as failed:
        http.fetch_page(pages + path)
    assert (failed.value.reason, failed.value.http_status) == (reason, http_status)


def test_redirects_within_the_bound_are_followed(pages: str) -> None:
    page = loopback_http((port_of(pages),)).fetch_page(f"{pages}/hop")
    assert page.url == f"{pages}/news" and page.body == NEWS_PAGE


# --- through the API and a real worker ----------------------------------------------------


def test_an_article_by_url_is_fetched_extracted_and_its_claims_index_into_the_shown_text(
    fetch_client, pages, work_off
) -> None:
    url = f"{pages}/news"
    accepted = fetch_client.post("/v1/articles", json={"url": url, "title": "Sent title"})
    assert accepted.status_code == 202
    body = accepted.get_json()
    assert body["source"] == "url" and "text" not in body
    work_off()
    article = fetch_client.get(f"/v1/articles/{body['id']}").get_json()
    assert article["status"] == "done", article
    assert article["title"] == "Sent title"  # the client's field wins
    assert (article["author"], article["publisher"]) == ("Maria Jensen", "The Harbour Gazette")
    assert article["published_at"].startswith("2024-03-21")
    text = article["text"]
    assert "budget gap of 4 billion euros" in text and "Advertisement" not in text and "Reader123" not in text
    assert article["claims"]
    for claim in article["claims"]:
        span = claim["content"]["span"] if "span" in claim["content"] else claim["content"]
        assert text[span["start"]:span["end"]] == span["text"]


def test_the_same_url_is_answered_from_the_article_until_a_refresh_is_asked(fetch_client, pages, work_off) -> None:
    url = f"{pages}/plain"
    first = fetch_client.post("/v1/articles", json={"url": url}).get_json()
    work_off()
    again = fetch_client.post("/v1/articles", json={"url": url})
    assert again.status_code == 200 and again.get_json()["id"] == first["id"]
    assert [p for p, _ in Pages.hits] == ["/plain"]
    refreshed = fetch_client.post("/v1/articles", json={"url": url, "refresh": True})
    assert refreshed.status_code == 202 and refreshed.get_json()["id"] == first["id"]
    work_off()
    assert [p for p, _ in Pages.hits] == ["/plain", "/plain"]
    assert fetch_client.get(f"/v1/articles/{first['id']}").get_json()["status"] == "done"


def test_keys_sharing_a_url_share_the_fetched_page_but_never_each_others_fields(
    fetch_client, open_config, pages, work_off
) -> None:
    keys = ApiKeys(connect(open_config.redis_url))
    a, b = ({"Authorization": f"Bearer {keys.create(name)[1]}"} for name in ("a", "b"))
    url = f"{pages}/news"
    sent_by_a = {"url": url, "title": "A's title", "author": "A's author", "metadata": {"desk": "a"}}
    article_id = fetch_client.post("/v1/articles", json=sent_by_a, headers=a).get_json()["id"]
    work_off()
    seen_by_b = fetch_client.post("/v1/articles", json={"url": url, "publisher": "B's wire"}, headers=b)
    assert seen_by_b.status_code == 200 and seen_by_b.get_json()["id"] == article_id
    for view in (seen_by_b.get_json(), fetch_client.get(f"/v1/articles/{article_id}", headers=b).get_json()):
        assert (view["title"], view["author"]) == ("Finance minister says taxes will rise next year", "Maria Jensen")
        assert view["publisher"] == "B's wire" and view["metadata"] is None and view["source"] == "url"
        assert "budget gap of 4 billion euros" in view["text"]
    view_a = fetch_client.get(f"/v1/articles/{article_id}", headers=a).get_json()
    assert (view_a["title"], view_a["author"], view_a["metadata"]) == ("A's title", "A's author", {"desk": "a"})
    assert view_a["publisher"] == "The Harbour Gazette"  # A sent none: the page's own


def test_a_failed_fetch_is_not_cached_so_the_same_url_is_fetched_again(fetch_client, pages, work_off) -> None:
    url = f"{pages}/missing"
    article_id = fetch_client.post("/v1/articles", json={"url": url}).get_json()["id"]
    work_off()
    assert fetch_client.get(f"/v1/articles/{article_id}").get_json()["status"] == "failed"
    again = fetch_client.post("/v1/articles", json={"url": url})
    assert again.status_code == 202 and again.get_json()["status"] == "queued"
    work_off()
    assert [p for p, _ in Pages.hits] == ["/missing", "/missing"]


@pytest.mark.parametrize(
    ("path", "reason"), [("/missing", "http-status"), ("/pdf", "content-type"), ("/slow", "timeout")]
)
def test_a_failed_fetch_fails_the_article_with_a_problem_saying_why(fetch_client, pages, work_off, path, reason) -> None:
    article_id = fetch_client.post("/v1/articles", json={"url": pages + path}).get_json()["id"]
    work_off()
    article = fetch_client.get(f"/v1/articles/{article_id}").get_json()
    assert article["status"] == "failed"
    assert article["problem"]["type"] == "/problems/fetch-failed"
    assert article["problem"]["reason"] == reason


def test_with_the_allow_list_off_a_loopback_url_fails_as_refused_and_is_never_requested(
    config, pages, monkeypatch
) -> None:
    closed = dataclasses.replace(config, fetch_ports=(80, 443, port_of(pages)))
    monkeypatch.setattr(Config, "from_env", classmethod(lambda cls, environ=None: closed))
    app = create_app(closed)
    app.test_client_class = CheckedClient
    client = app.test_client()
    ids = [client.post("/v1/articles", json={"url": f"http://{h}:{port_of(pages)}/news"}).get_json()["id"]
           for h in ("127.0.0.1", "localhost", "2130706433", "[::ffff:127.0.0.1]")]
    burst_worker(closed)()
    for article_id in ids:
        problem = client.get(f"/v1/articles/{article_id}").get_json()["problem"]
        assert problem["reason"] == "refused-address", problem
        assert "loopback" in problem["address_class"]
    assert Pages.hits == []


def test_html_sent_as_text_html_or_as_json_is_extracted_without_a_fetch(client, work_off) -> None:
    as_body = client.post("/v1/articles", data=NEWS_PAGE, content_type="text/html; charset=utf-8")
    assert as_body.status_code == 202
    view = as_body.get_json()
    assert view["source"] == "html" and view["title"] == "Finance minister says taxes will rise next year"
    assert "budget gap of 4 billion euros" in view["text"]
    as_json = client.post("/v1/articles", json={"html": NEWS_PAGE.decode(), "publisher": "Wire copy"}).get_json()
    assert as_json["id"] == view["id"]  # same text, same publication time: the same article
    work_off()
    done = client.get(f"/v1/articles/{view['id']}").get_json()
    assert done["status"] == "done" and done["claims"]


def test_a_submission_needs_text_html_or_a_url(client) -> None:
    for body in ({}, {"title": "x"}, {"text": "a", "html": "<p>b</p>"}, {"url": None}):
        response = client.post("/v1/articles", json=body)
        assert response.status_code == 422, body
    assert client.post("/v1/articles", json={"html": "<html><head><title>Empty</title></head><body><img src=a.png></body></html>"}).status_code == 422


@pytest.fixture
def tls_page(tmp_path) -> Iterator[tuple[str, list[str]]]:
    """An HTTPS server on loopback with a self-signed certificate for news.example; records the SNI names."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command (Debian package openssl)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=news.example",
         "-addext", "subjectAltName=DNS:news.example", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    names: list[str] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    with loopback_server(Pages) as server:
        server.socket = context.wrap_socket(server.socket, server_side=True)
        yield f"https://news.example:{server.server_address[1]}", names


def test_https_sends_the_urls_host_as_sni_and_verifies_the_certificate(tls_page) -> None:
    url, names = tls_page
    http = loopback_http((port_of(url),), resolver=lambda host, p: ["127.0.0.1"])
    with pytest.raises(FetchFailed) as failed:
        http.fetch_page(f"{url}/news")
    assert failed.value.reason == "network" and "CERTIFICATE_VERIFY_FAILED" in str(failed.value)
    assert names == ["news.example"]  # connected to 127.0.0.1, spoke TLS to the URL's host
