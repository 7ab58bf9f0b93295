"""/healthz, /readyz with and without live workers, and the documentation endpoints."""

from __future__ import annotations

import dataclasses
import html
import re

import yaml

from service.app import create_app
from service.keys import ApiKeys
from service.problems import PROBLEM_TYPES
from service.store import connect
from support.fixtures_api import REPO, SHORT_TEXT, stop_process_tree
from support.openapi_check import CheckedClient
from support.waiting import poll
from workers.liveness import Liveness

SAFETY_NET = 60.0  # seconds beyond the heartbeat silence limit, for a stop on a busy machine


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_is_503_without_a_live_worker(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    problem = response.get_json()
    assert problem["type"] == "/problems/not-ready"
    assert problem["checks"] == {"redis": "ok", "workers": 0}
    assert response.headers["Retry-After"] == "5"


def test_readyz_follows_the_workers(client, config, start_worker):
    worker = start_worker()
    client.post("/v1/articles", json={"text": SHORT_TEXT})
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["checks"] == {"redis": "ok", "workers": 1}
    assert body["queued"] in (0, 1)
    assert body["access"] == "open"
    ApiKeys(connect(config.redis_url)).create("cms")
    assert client.get("/readyz").get_json()["access"] == "api-keys"
    stop_process_tree(worker)
    # A worker that stopped cleanly deregisters at once; one that had to be killed under
    # load is dropped when its heartbeat goes silent (RQ's worker_ttl plus the grace).
    silence = Liveness.from_stale_after(config.stale_after).silence_limit.total_seconds()
    poll(lambda: client.get("/readyz").status_code == 503, bool, silence + SAFETY_NET, "readyz to turn 503")


def test_readyz_is_503_when_redis_is_unreachable(config):
    app = create_app(dataclasses.replace(config, redis_url="redis://127.0.0.1:1/0"))
    app.test_client_class = CheckedClient
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"redis": "unreachable", "workers": 0}


def test_openapi_yaml_is_the_repository_file(client):
    response = client.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.mimetype == "application/yaml"
    assert response.get_data() == (REPO / "openapi.yaml").read_bytes()
    assert yaml.safe_load(response.get_data())["openapi"].startswith("3.1")


def test_docs_render_swagger_ui_from_local_files(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert '"url": "/openapi.yaml"' in text
    sources = re.findall(r'(?:src|href)="([^"]+)"', text)
    assert sources and all(s.startswith("/docs/") for s in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source
    bundle = client.get("/docs/swagger-ui-bundle.js").get_data(as_text=True)
    assert "isOAS31" in bundle, "this Swagger UI renders OpenAPI 3.1"


def test_every_problem_type_has_its_page(client):
    for slug, problem in PROBLEM_TYPES.items():
        page = client.get(f"/problems/{slug}")
        assert page.status_code == 200
        assert html.escape(problem.title) in page.get_data(as_text=True)
    assert client.get("/problems/no-such-problem").status_code == 404
