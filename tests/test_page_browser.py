"""The article page in a real browser: Debian's chromium, headless, against gunicorn and a worker.

Needs the ``chromium`` package (installed by .ci/run); skipped only where it cannot exist.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
import requests

from support.page_dom import read_page
from support.seeds import SEED_TEXT
from support.waiting import poll
from service.keys import ApiKeys

CHROMIUM = shutil.which("chromium")
BROWSER_TIMEOUT = 90.0
DONE_TIMEOUT = 90.0
XSS_TEXT = (
    'The mayor said that "<script>document.title = \'pwned\'; document.documentElement.dataset.pwned = 1</script>" '
    "was fine. <img src=x onerror=\"document.documentElement.dataset.pwned = 2\"> The council claimed that "
    '<a href="javascript:document.documentElement.dataset.pwned=3">the plan</a> would work.'
    '<svg onload="document.documentElement.dataset.pwned = 4"></svg><iframe src="javascript:parent.document.title=1"></iframe>'
)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")


def dump_dom(url: str) -> str:
    """The DOM after the page's scripts ran, as headless Chromium serialises it."""
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--virtual-time-budget=3000", "--dump-dom", url],
        capture_output=True, text=True, timeout=BROWSER_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def submit_and_wait(url: str, token: str, **article: str) -> dict:
    auth = {"Authorization": f"Bearer {token}"}
    article_id = requests.post(f"{url}/v1/articles", json=article, headers=auth, timeout=10).json()["id"]

    return poll(
        lambda: requests.get(f"{url}/v1/articles/{article_id}", headers=auth, timeout=10).json(),
        lambda article: article["status"] == "done",
        DONE_TIMEOUT,
        "the extraction",
        interval=0.2,
    )


@pytest.fixture
def served_with_key(start_api, start_worker, redis_conn) -> tuple[str, str]:
    _, token = ApiKeys(redis_conn).create("browser-test")
    start_worker()
    return start_api(api_processes=1), token


def test_chromium_shows_each_claim_marked_once_through_the_signed_link(served_with_key):
    url, token = served_with_key
    article = submit_and_wait(url, token, text=SEED_TEXT, title="Putin claims incursions failed", publisher="Example News")
    dom = read_page(dump_dom(url + article["links"]["view"]))  # no Authorization header: the link alone
    assert dom.root_attrs.get("data-script") == "ready"  # the page's own script ran under the CSP
    assert len(article["claims"]) >= 10
    for claim in article["claims"]:
        assert dom.content_counts[claim["id"]] == 1, claim["id"]
        assert dom.content_text(claim["id"]) == claim["content"]["text"]


def test_chromium_runs_no_script_from_the_article(served_with_key):
    url, token = served_with_key
    article = submit_and_wait(url, token, text=XSS_TEXT, title="<script>document.title='pwned'</script>")
    dom = read_page(dump_dom(url + article["links"]["view"]))
    assert dom.root_attrs.get("data-script") == "ready"
    assert "data-pwned" not in dom.root_attrs
    assert dom.title.startswith("<script>document.title='pwned'</script>")  # shown as text, not run
    assert dom.tags_in_text.keys() <= {"mark", "span"}
    assert all(s.get("src", "").startswith("/static/") for s in dom.scripts)
