"""Every write of an article's hash replaces its revision, which readers rely on to know nothing changed."""

from __future__ import annotations

from redis import Redis

from service.keys import ApiKeys
from service.store import REVISION_FIELD, ArticleStore, StoredResult, article_key
from support.fixtures_api import SHORT_TEXT


def test_every_write_of_an_article_replaces_its_revision(client, store: ArticleStore, redis_conn: Redis) -> None:
    (first, first_token), (second, second_token) = ApiKeys(redis_conn).create("a"), ApiKeys(redis_conn).create("b")
    revisions: list[bytes | None] = []

    def written() -> None:
        revisions.append(redis_conn.hget(article_key(article_id), REVISION_FIELD))

    def submit(token: str, **query: str) -> str:
        posted = client.post("/v1/articles", json={"text": SHORT_TEXT}, headers={"Authorization": f"Bearer {token}"}, query_string=query)
        assert posted.status_code in (200, 202), posted.get_json()
        return str(posted.get_json()["id"])

    article_id = submit(first_token)
    written()
    job_id = store.get(article_id, first.id).job_id  # type: ignore[union-attr]
    before = revisions[-1]
    submit(first_token)  # a repeat writes nothing
    assert redis_conn.hget(article_key(article_id), REVISION_FIELD) == before
    submit(second_token)  # another owner
    written()
    assert store.start(article_id, job_id) is not None
    written()
    assert store.record_page(article_id, job_id, SHORT_TEXT, None, {}) is not None
    written()
    assert store.requeue(article_id, job_id)
    written()
    assert store.start(article_id, job_id) is not None
    written()
    assert store.fail(article_id, job_id, {"type": "about:blank", "status": 503, "title": "x"})
    written()
    submit(first_token, refresh="true")  # queued again
    written()
    job_id = store.get(article_id, first.id).job_id  # type: ignore[union-attr]
    assert store.start(article_id, job_id) is not None
    written()
    assert store.finish(article_id, job_id, StoredResult(b'{"claims": []}'))
    written()
    assert store.delete(article_id, second.id)  # one owner lets go; the article stays
    written()
    assert None not in revisions and len(set(revisions)) == len(revisions) == 11
