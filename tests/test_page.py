"""The article page (HTML): claims marked in place, escaped text, security headers, signed view links."""

from __future__ import annotations

import time

import pytest

from support.page_dom import read_page
from support.seeds import SEED_TEXT
from service.blueprints.pages import SECURITY_HEADERS
from service.keys import ApiKeys
from service.markup import marked_up
from service.view_links import EXPIRY_STEP, ViewLinks

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
XSS_TEXT = (
    'The mayor said that "<script>document.title = \'pwned\'</script>" was fine. '
    "<img src=x onerror=\"document.body.dataset.pwned = 1\"> The council claimed that "
    '<a href="javascript:alert(1)">the plan</a> would work &amp; more.'
)


def submitted(client, work_off, text: str = SEED_TEXT, **fields) -> dict:
    body = client.post("/v1/articles", json={"text": text, **fields}).get_json()
    work_off()
    return client.get(f"/v1/articles/{body['id']}").get_json()


def test_marked_up_text_is_the_escaped_article_with_nested_spans():
    text = "<b>Ann</b> said \"x < y\" & left."
    claims = [
        {"id": "c1", "type": "direct", "content": {"start": 16, "end": 23, "parts": []},
         "claimant": {"start": 0, "end": 10}, "cue": {"start": 11, "end": 15}},
        {"id": "c2", "type": "indirect", "content": {"start": 17, "end": 22, "parts": [[17, 18], [21, 22]]},
         "claimant": {"start": 0, "end": 10}, "cue": None},
    ]
    html = marked_up(text, claims)
    dom = read_page(f'<div id="text">{html}</div>')
    assert dom.content_text("c1") == text[16:23] and dom.content_text("c2") == text[17:22]
    assert dom.content_counts == {"c1": 1, "c2": 1}
    assert "<b>" not in html and "&lt;b&gt;Ann&lt;/b&gt;" in html
    assert html.count('class="claimant"') == 1 and 'data-claims="c1 c2"' in html  # one shared claimant
    assert 'class="content reported split"' in html and html.count('class="part"') == 2


def test_a_span_crossing_another_is_split_and_still_reads_as_its_text():
    text = "abcdefghij"
    claims = [
        {"id": "a", "type": "direct", "content": {"start": 0, "end": 6, "parts": []}},
        {"id": "b", "type": "direct", "content": {"start": 4, "end": 10, "parts": []}},
    ]
    dom = read_page(f'<div id="text">{marked_up(text, claims)}</div>')
    assert dom.content_text("a") == "abcdef" and dom.content_text("b") == "efghij"


def test_a_browser_gets_the_page_with_every_claim_marked_once(client, work_off):
    article = submitted(client, work_off, title="Raids", publisher="Example News", url="https://example.com/raids")
    response = client.get(f"/v1/articles/{article['id']}", headers=BROWSER)
    assert response.status_code == 200 and response.mimetype == "text/html"
    dom = read_page(response.get_data(as_text=True))
    assert article["claims"]
    for claim in article["claims"]:
        assert dom.content_counts[claim["id"]] == 1
        assert dom.content_text(claim["id"]) == claim["content"]["text"]
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Accept" in response.headers["Vary"]
    assert all(s.get("src", "").startswith("/static/") for s in dom.scripts)


def test_curl_still_gets_json(client, work_off):
    article = submitted(client, work_off, text="The minister said that taxes would rise next year.")
    response = client.get(f"/v1/articles/{article['id']}", headers={"Accept": "*/*"})
    assert response.mimetype == "application/json" and response.get_json()["claims"]


def test_article_text_and_fields_never_become_markup(client, work_off):
    article = submitted(client, work_off, text=XSS_TEXT, title="<script>alert(1)</script>", publisher='"><img src=x onerror=alert(1)>')
    html = client.get(f"/v1/articles/{article['id']}", headers=BROWSER).get_data(as_text=True)
    dom = read_page(html)
    assert dom.tags_in_text.keys() <= {"mark", "span"}
    assert "<script>document" not in html and "<script>alert" not in html
    assert "<img src=x" not in html and 'href="javascript:' not in html
    assert "&lt;script&gt;document.title" in html


def test_a_pending_article_page_reloads_itself(client):
    article_id = client.post("/v1/articles", json={"text": SEED_TEXT}).get_json()["id"]
    html = client.get(f"/v1/articles/{article_id}", headers=BROWSER).get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in html and "being extracted" in html


def test_the_home_page_asks_for_a_key_only_when_the_api_needs_one(client, redis_conn):
    assert 'name="api_key"' not in client.get("/").get_data(as_text=True)
    ApiKeys(redis_conn).create("newsroom")
    response = client.get("/")
    assert response.status_code == 200 and 'name="api_key"' in response.get_data(as_text=True)
    assert client.get("/static/claimwire.js").status_code == 200


def test_a_view_link_opens_that_article_alone_without_a_key(client, work_off, redis_conn):
    _, token = ApiKeys(redis_conn).create("newsroom")
    auth = {"Authorization": f"Bearer {token}"}
    first = client.post("/v1/articles", json={"text": SEED_TEXT}, headers=auth).get_json()
    other = client.post("/v1/articles", json={"text": "Ann said it rained."}, headers=auth).get_json()
    work_off()
    view = client.get(f"/v1/articles/{first['id']}", headers=auth).get_json()["links"]["view"]
    assert client.get(view).status_code == 200
    assert client.get(view, headers=BROWSER).mimetype == "text/html"
    assert client.get(view.replace(first["id"], other["id"])).status_code == 403
    assert client.get(view.replace("/view?", "?")).status_code == 401  # the JSON needs the key
    assert client.get(view[:-2] + ("AA" if not view.endswith("AA") else "BB")).status_code == 403
    assert client.get(f"/v1/articles/{first['id']}/view").status_code == 403


def test_a_view_link_dies_with_its_key_and_at_its_expiry(client, work_off, redis_conn):
    keys = ApiKeys(redis_conn)
    key, token = keys.create("newsroom")
    keys.create("another")  # the API stays closed when the first key goes
    article = client.post("/v1/articles", json={"text": SEED_TEXT}, headers={"Authorization": f"Bearer {token}"}).get_json()
    work_off()
    links = ViewLinks(redis_conn, ttl=60)
    expired = links.link(article["id"], key.id, expires=links.expiry(time.time() - 60 - 2 * EXPIRY_STEP))
    assert client.get(expired).status_code == 403
    assert client.get(article["links"]["view"]).status_code == 200
    keys.revoke(key.id)
    assert client.get(article["links"]["view"]).status_code == 403


@pytest.mark.parametrize("bad", ["key=zz&expires=1&signature=x", "key=-&expires=9999999999&signature=" + "A" * 43, ""])
def test_a_malformed_view_link_is_a_problem(client, bad):
    response = client.get(f"/v1/articles/{'0' * 32}/view?{bad}")
    assert response.status_code == 403 and response.get_json()["type"] == "/problems/invalid-view-link"
