"""The plain article and claims reads served below Flask answer exactly as Flask does, and only they are.

Every request goes to two apps on the same Redis: the service as built (with the hot-reads
layer) and the same app with the layer taken off. Their answers must be equal: status,
body and every header, but for ``X-RateLimit-Remaining``, which shows that each request
was counted once. The gate must run once per request on both, and only the plain read may
skip Flask.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from redis import Redis

from service.app import create_app
from service.config import Config
from service.context import EXTENSION_NAME
from service.hot_reads import HotReads
from service.keys import ApiKeys
from service.request_limits import PRE_READ
from service.logs import ContextFilter
from service.view_links import EXPIRY_STEP, ViewLinks
from support.fixtures_api import SHORT_TEXT

REQUEST_ID = "hot-read-test"
REMAINING = "X-RateLimit-Remaining"


class Spied:
    """An app with counters on its request gate and on the Flask app behind the layer."""

    def __init__(self, app: Flask) -> None:
        self.app, self.gate_runs, self.flask_calls = app, 0, 0
        self.handed_body = False  # whether the last request reached Flask with its body read already
        gate = app.extensions[EXTENSION_NAME].gate
        identify = gate.identify

        def counted_identify(*args: Any, **kwargs: Any) -> Any:
            self.gate_runs += 1
            return identify(*args, **kwargs)

        gate.identify = counted_identify
        layer = app.wsgi_app
        inner = layer.app if isinstance(layer, HotReads) else layer

        def counted_flask(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            self.flask_calls += 1
            self.handed_body = PRE_READ in environ
            return inner(environ, start_response)

        if isinstance(layer, HotReads):
            layer.app = counted_flask
        else:
            app.wsgi_app = counted_flask  # type: ignore[method-assign]

    def get(self, path: str, headers: dict[str, str]) -> Any:
        return self.app.test_client().get(path, headers={"X-Request-ID": REQUEST_ID, **headers})

    def post(self, body: bytes, headers: dict[str, str]) -> Any:
        headers = {"X-Request-ID": REQUEST_ID, "Content-Type": "application/json", **headers}
        return self.app.test_client().post("/v1/articles", data=body, headers=headers)


def pair(config: Config) -> tuple[Spied, Spied]:
    """The service as built, and the same app without its hot-reads layer."""
    hot, plain = create_app(config), create_app(config)
    plain.wsgi_app = plain.wsgi_app.app  # type: ignore[attr-defined,method-assign]
    return Spied(hot), Spied(plain)


@pytest.fixture
def done_article(config: Config, redis_conn: Redis, work_off) -> tuple[Config, dict[str, str], str]:
    """A configuration with a rate limit, an API key's header, and a done article of that key."""
    config = dataclasses.replace(config, rate_limit="1000/minute")
    _, token = ApiKeys(redis_conn).create("cms")
    auth = {"Authorization": f"Bearer {token}"}
    article_id = create_app(config).test_client().post("/v1/articles", json={"text": SHORT_TEXT}, headers=auth).get_json()["id"]
    work_off()
    return config, auth, article_id


def headers_of(response: Any) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in response.headers.items() if k != REMAINING)


def assert_same_answer(hot: Spied, plain: Spied, path: str, headers: dict[str, str], body: bytes | None = None) -> Any:
    """The two apps answer ``path`` (a GET; with ``body``, a POST of it to /v1/articles) alike, each
    running the gate once; the hot app's answer."""
    runs = hot.gate_runs, plain.gate_runs
    if body is None:
        first, second = hot.get(path, headers), plain.get(path, headers)
    else:
        first, second = hot.post(body, headers), plain.post(body, headers)
    assert (first.status_code, headers_of(first), first.data) == (second.status_code, headers_of(second), second.data)
    assert (hot.gate_runs - runs[0], plain.gate_runs - runs[1]) == (1, 1)
    if REMAINING in first.headers:
        assert int(second.headers[REMAINING]) == int(first.headers[REMAINING]) - 1, "one count per request"
    return first


@pytest.mark.parametrize("suffix", ["/claims", ""])
def test_the_plain_reads_and_their_304s_skip_flask_and_answer_as_flask(done_article, caplog, suffix: str) -> None:
    config, auth, article_id = done_article
    hot, plain = pair(config)
    path = f"/v1/articles/{article_id}{suffix}"
    caplog.handler.addFilter(ContextFilter())  # as the service's log handler: the request's ids on its line
    with caplog.at_level(logging.INFO, logger="claimwire.request"):
        answered = assert_same_answer(hot, plain, path, auth)
    assert answered.status_code == 200 and answered.headers["ETag"]
    hot_line, plain_line = (r for r in caplog.records if r.name == "claimwire.request")
    fields = ("method", "route", "path", "status", "article_id", "request_id")
    assert [getattr(hot_line, f) for f in fields] == [getattr(plain_line, f) for f in fields]
    assert hot_line.request_id == REQUEST_ID and hot_line.article_id == article_id
    etag = answered.headers["ETag"]
    for tags in (etag, f"W/{etag}", '"other", ' + etag, "*"):
        assert assert_same_answer(hot, plain, path, {**auth, "If-None-Match": tags}).status_code == 304
    assert hot.flask_calls == 0, "the plain reads went through Flask"


@pytest.mark.parametrize("change", ["the link's next expiry step", "a second owner reading"])
def test_an_article_rendered_for_other_terms_goes_to_flask_once_then_below_it_again(
    done_article, redis_conn: Redis, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """The process's body of an article stops fitting when the view link's expiry step moves on or
    another caller reads it; that read goes to Flask, and the next ones are served below it again."""
    config, auth, article_id = done_article
    hot, plain = pair(config)
    path, callers = f"/v1/articles/{article_id}", [auth]
    assert_same_answer(hot, plain, path, auth)
    if change == "the link's next expiry step":
        expiry = ViewLinks.expiry
        monkeypatch.setattr(ViewLinks, "expiry", lambda links, now=None: expiry(links, now) + EXPIRY_STEP)
    else:
        callers.append({"Authorization": f"Bearer {ApiKeys(redis_conn).create('desk')[1]}"})
        assert plain.post(json.dumps({"text": SHORT_TEXT}).encode(), callers[1]).status_code == 200
    flask_calls = hot.flask_calls
    for _ in range(3):
        for headers in callers:
            assert assert_same_answer(hot, plain, path, headers).status_code == 200
    assert hot.flask_calls - flask_calls == 1, "the article's reads stayed with Flask"


@pytest.mark.parametrize(
    "suffix, headers",
    [
        ("/claims?limit=1", {}),
        ("/claims?min_checkworthiness=0.5", {}),
        ("/claims", {"Accept": "application/ld+json"}),
        ("/claims", {"If-None-Match": '"other"', "Accept": "text/html, application/ld+json"}),
        ("?x=1", {}),
        ("", {"Accept": "text/html"}),
        ("", {"Accept": "application/ld+json"}),
    ],
)
def test_other_reads_of_the_article_go_to_flask_unchanged(done_article, suffix: str, headers: dict[str, str]) -> None:
    config, auth, article_id = done_article
    hot, plain = pair(config)
    assert_same_answer(hot, plain, f"/v1/articles/{article_id}{suffix}", {**auth, **headers})
    assert hot.flask_calls == 1


@pytest.mark.parametrize(
    "case, headers",
    [
        ("no key", {}),
        ("a wrong key", {"Authorization": "Bearer not-a-key"}),
        ("unknown article", None),
        ("another key's article", None),
    ],
)
@pytest.mark.parametrize("suffix", ["/claims", ""])
def test_refused_reads_are_handed_to_flask_with_the_gates_answer(
    done_article, redis_conn: Redis, case: str, headers: dict[str, str] | None, suffix: str
) -> None:
    config, auth, article_id = done_article
    if case == "unknown article":
        article_id, headers = "0" * 32, auth
    elif case == "another key's article":
        headers = {"Authorization": f"Bearer {ApiKeys(redis_conn).create('other')[1]}"}
    hot, plain = pair(config)
    answered = assert_same_answer(hot, plain, f"/v1/articles/{article_id}{suffix}", headers or {})
    assert answered.status_code in (401, 404)
    assert hot.flask_calls == 1


def test_a_limited_claims_read_is_429_from_flask_counted_once(done_article) -> None:
    config, auth, article_id = done_article
    hot, plain = pair(dataclasses.replace(config, rate_limit="3/minute"))
    path = f"/v1/articles/{article_id}/claims"
    statuses = []
    while len(statuses) < 5 and 429 not in statuses:
        statuses.append(hot.get(path, auth).status_code)
    assert statuses[-1] == 429 and set(statuses[:-1]) == {200}
    assert (hot.gate_runs, hot.flask_calls) == (len(statuses), 1), "the gate ran once a request; only the 429 reached Flask"
    limited = plain.get(path, auth)
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    assert limited.get_json()["type"] == hot.get(path, auth).get_json()["type"]


def test_an_article_not_yet_done_is_read_below_flask_and_its_claims_by_flask(config: Config, redis_conn: Redis) -> None:
    _, token = ApiKeys(redis_conn).create("cms")
    auth = {"Authorization": f"Bearer {token}"}
    hot, plain = pair(dataclasses.replace(config, rate_limit="1000/minute"))
    article_id = hot.app.test_client().post("/v1/articles", json={"text": SHORT_TEXT}, headers=auth).get_json()["id"]
    flask_calls = hot.flask_calls
    article = assert_same_answer(hot, plain, f"/v1/articles/{article_id}", auth)
    assert article.status_code == 200 and article.get_json()["status"] == "queued"
    assert hot.flask_calls == flask_calls, "the article read went through Flask"
    assert assert_same_answer(hot, plain, f"/v1/articles/{article_id}/claims", auth).status_code == 409
    assert hot.flask_calls == flask_calls + 1


@pytest.mark.parametrize("suffix", ["/claims", ""])
def test_oversized_headers_go_to_flask_and_get_its_431(done_article, suffix: str) -> None:
    config, auth, article_id = done_article
    hot, plain = pair(config)
    headers = {**auth, "X-Filler": "x" * config.max_header_bytes}
    path = f"/v1/articles/{article_id}{suffix}"
    answers = hot.get(path, headers), plain.get(path, headers)
    assert [a.status_code for a in answers] == [431, 431] and answers[0].get_json() == answers[1].get_json()
    assert (hot.gate_runs, hot.flask_calls) == (0, 1)


BODY = json.dumps({"text": SHORT_TEXT, "title": "Taxes"}).encode()


@pytest.fixture
def resubmitted(config: Config, redis_conn: Redis, work_off) -> tuple[Spied, Spied, dict[str, str], str]:
    """Both apps, an API key's header, and the id of BODY's article: submitted through the hot app
    (which remembers the body once Flask accepted it), and done."""
    _, token = ApiKeys(redis_conn).create("cms")
    auth = {"Authorization": f"Bearer {token}"}
    hot, plain = pair(dataclasses.replace(config, rate_limit="1000/minute"))
    first = hot.post(BODY, auth)
    assert first.status_code == 202 and hot.flask_calls == 1
    work_off()
    return hot, plain, auth, first.get_json()["id"]


def test_the_resubmission_of_an_accepted_body_skips_flask_and_answers_as_flask(resubmitted, caplog) -> None:
    hot, plain, auth, article_id = resubmitted
    caplog.handler.addFilter(ContextFilter())
    with caplog.at_level(logging.INFO, logger="claimwire.request"):
        answered = assert_same_answer(hot, plain, "", auth, BODY)
    assert answered.status_code == 200 and answered.get_json()["id"] == article_id
    assert answered.headers["Content-Location"] == f"/v1/articles/{article_id}"
    assert hot.flask_calls == 1, "the resubmission went through Flask"
    hot_line, plain_line = (r for r in caplog.records if r.name == "claimwire.request")
    fields = ("method", "route", "path", "status", "article_id", "request_id")
    assert [getattr(hot_line, f) for f in fields] == [getattr(plain_line, f) for f in fields]


@pytest.mark.parametrize(
    "case",
    ["another body", "refresh", "an Idempotency-Key", "text/plain", "another key", "no key", "a malformed body", "too large"],
)
def test_any_other_submission_goes_to_flask_with_the_gate_passed_and_the_body_read_once(
    resubmitted, redis_conn: Redis, case: str
) -> None:
    hot, plain, auth, article_id = resubmitted
    body, headers = BODY, dict(auth)
    if case == "another body":
        body = BODY + b" "
    elif case == "refresh":
        body = json.dumps({"text": SHORT_TEXT, "title": "Taxes", "refresh": True}).encode()
    elif case == "an Idempotency-Key":
        headers["Idempotency-Key"] = "save-1"
    elif case == "text/plain":
        body, headers["Content-Type"] = SHORT_TEXT.encode(), "text/plain"
    elif case == "another key":
        headers["Authorization"] = f"Bearer {ApiKeys(redis_conn).create('other')[1]}"
    elif case == "no key":
        headers = {}
    elif case == "a malformed body":
        body = b'{"text": '
    else:
        body = b'{"text": "' + b"x" * hot.app.extensions[EXTENSION_NAME].config.max_body_bytes + b'"}'
    calls = hot.flask_calls
    answered = assert_same_answer(hot, plain, "", headers, body)
    assert hot.flask_calls == calls + 1
    # a text is extracted once: ``refresh`` only fetches a URL's page again, so a text's answer is 200 still
    expected = {"another body": 200, "refresh": 200, "an Idempotency-Key": 200, "text/plain": 200, "another key": 200,
                "no key": 401, "a malformed body": 400, "too large": 413}
    assert answered.status_code == expected[case]
    # read below Flask only with credentials, a JSON body and no Idempotency-Key; else Flask reads it, after its gate
    assert hot.handed_body == (case not in ("an Idempotency-Key", "text/plain", "no key"))


def test_a_resubmission_before_the_article_is_done_is_flasks(config: Config, redis_conn: Redis) -> None:
    _, token = ApiKeys(redis_conn).create("cms")
    auth = {"Authorization": f"Bearer {token}"}
    hot, plain = pair(dataclasses.replace(config, rate_limit="1000/minute"))
    assert hot.post(BODY, auth).status_code == 202
    assert assert_same_answer(hot, plain, "", auth, BODY).status_code == 202
    assert hot.flask_calls == 2
