"""An article body is rendered once and served again only while the hash, the document, the caller
and the link's expiry step it was made of are the same; anything else renders anew."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from redis import Redis

from service.claims_document import article_body, entity_tag
from service.keys import ApiKeys
from service.rendered_articles import RenderedArticles
from service.store import REVISION_FIELD, article_key, owner_field, result_key, seen_by
from service.view_links import EXPIRY_STEP, ViewLinks
from support.fixtures_api import SHORT_TEXT


class CountedLinks(ViewLinks):
    """View links on a settable clock, counting the links signed (one per rendering)."""

    now = 1_800_000_000.0
    signed = 0

    def expiry(self, now: float | None = None) -> int:
        return super().expiry(now or self.now)

    def link(self, article_id: str, key_id: str | None, expires: int | None = None) -> str:
        self.signed += 1
        return super().link(article_id, key_id, expires)


@pytest.fixture
def done(client, work_off, redis_conn: Redis) -> tuple[str, str, dict[bytes, bytes], bytes]:
    """A done article of an API key: its id, the key id, its hash and its claims document as stored."""
    key, token = ApiKeys(redis_conn).create("cms")
    article_id = client.post("/v1/articles", json={"text": SHORT_TEXT}, headers={"Authorization": f"Bearer {token}"}).get_json()["id"]
    work_off()
    return article_id, key.id, redis_conn.hgetall(article_key(article_id)), redis_conn.get(result_key(article_id))


def written(raw: dict[bytes, bytes], **fields: bytes) -> dict[bytes, bytes]:
    """``raw`` with ``fields`` written as the store writes them: with a new revision."""
    return {**raw, **{name.encode(): value for name, value in fields.items()}, REVISION_FIELD.encode(): uuid.uuid4().hex.encode()}


def made_anew(links: ViewLinks, raw: dict[bytes, bytes], body: bytes | None, owner: str, key_id: str | None) -> tuple[str, bytes]:
    article, result = seen_by(raw, body, owner)
    assert article is not None
    made = article_body(article, result, links.link(article.id, key_id, expires=links.expiry()))
    return entity_tag(made), made


def test_a_body_is_rendered_once_and_is_the_one_made_anew(done, redis_conn: Redis) -> None:
    article_id, key_id, raw, body = done
    links = CountedLinks(redis_conn, ttl=3600)
    rendered = RenderedArticles(links)
    first = rendered.render(raw, body, key_id, key_id)
    again = rendered.render(dict(raw), bytes(body), key_id, key_id)
    assert links.signed == 1, "the second read was rendered again"
    assert first == again == made_anew(links, raw, body, key_id, key_id)


@pytest.mark.parametrize("change", ["attempts", "another owner", "next expiry step", "document gone"])
def test_anything_the_body_is_made_of_changing_renders_it_anew(done, redis_conn: Redis, change: str) -> None:
    article_id, key_id, raw, body = done
    links = CountedLinks(redis_conn, ttl=3600)
    rendered = RenderedArticles(links)
    first = rendered.render(raw, body, key_id, key_id)
    changed: dict[str, Any] = {"raw": dict(raw), "body": body}
    if change == "attempts":
        changed["raw"] = written(raw, attempts=b"7")
    elif change == "another owner":
        changed["raw"] = written(raw, **{owner_field("other"): b"1"})
    elif change == "next expiry step":
        links.now += EXPIRY_STEP
    else:
        changed["body"] = None
    second = rendered.render(changed["raw"], changed["body"], key_id, key_id)
    if change == "document gone":  # a done article without its claims is a 404, never a kept body
        assert second is None
        return
    assert second is not None and links.signed == 2, "a body made of something else was served"
    assert second == made_anew(links, changed["raw"], changed["body"], key_id, key_id)
    if change == "attempts":
        assert b'"attempts":7' in second[1] and second != first
    if change == "next expiry step":
        assert second != first


def test_a_caller_who_may_not_see_the_article_gets_nothing_and_nothing_is_kept(done, redis_conn: Redis) -> None:
    article_id, key_id, raw, body = done
    rendered = RenderedArticles(CountedLinks(redis_conn, ttl=3600))
    assert rendered.render(raw, body, "someone-else", "someone-else") is None
    assert rendered.render(raw, body, key_id, key_id) is not None
    assert rendered.render(raw, body, "someone-else", "someone-else") is None, "a kept body was served to another caller"


def test_the_memo_holds_no_more_bytes_than_its_bound(done, redis_conn: Redis) -> None:
    article_id, key_id, raw, body = done
    links = CountedLinks(redis_conn, ttl=3600)
    weight = len(rendered_body := RenderedArticles(links).render(raw, body, key_id, key_id)[1])  # type: ignore[index]
    weight += sum(len(k) + len(v) for k, v in raw.items())
    small = RenderedArticles(links, max_bytes=2 * weight + weight // 2)  # room for two entries, not three
    revisions = [written(raw, attempts=str(attempts).encode()) for attempts in range(3)]
    for revised in revisions:
        small.render(revised, body, key_id, key_id)
    signed = links.signed
    small.render(revisions[2], body, key_id, key_id)
    small.render(revisions[0], body, key_id, key_id)
    assert links.signed == signed + 1, "the newest entry was not kept, or the oldest was not let go"
    tiny = RenderedArticles(links, max_bytes=len(rendered_body))
    assert tiny.render(raw, body, key_id, key_id) is not None
    assert tiny.render(raw, body, key_id, key_id) is not None and links.signed == signed + 3, "an entry over the bound was kept"


def test_a_miss_forgets_the_revision_until_a_body_is_made_for_it_again(done, redis_conn: Redis) -> None:
    """A revision the process tells the gate must have a body kept for the reader, or every read of
    it would go to Flask. A miss forgets it; a body found kept does not hold it again (else two
    callers would take turns forgetting it), a body made anew does."""
    article_id, key_id, raw, body = done
    links = CountedLinks(redis_conn, ttl=3600)
    rendered = RenderedArticles(links)
    revision = raw[REVISION_FIELD.encode()].decode()
    rendered.render(raw, body, key_id, key_id)
    assert rendered.revision_of(article_id) == revision
    assert rendered.held(article_id, revision, True, key_id, key_id) is not None
    assert rendered.held(article_id, revision, True, "another", "another") is None
    assert rendered.revision_of(article_id) == "", "a revision with no body kept for its reader was kept"
    assert rendered.render(raw, body, key_id, key_id) is not None and rendered.revision_of(article_id) == ""
    links.now += EXPIRY_STEP
    assert rendered.held(article_id, revision, True, key_id, key_id) is None
    assert rendered.render(raw, body, key_id, key_id) is not None
    assert rendered.revision_of(article_id) == revision
