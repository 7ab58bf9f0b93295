"""The private Redis of ``claimwire serve`` has a memory bound, and a write it refuses is a clean 503.

``serve`` runs with a small ``CLAIMWIRE_REDIS_MAXMEMORY``; articles are submitted until
Redis refuses one for memory. That submission answers 503 problem+json with
``Retry-After``, and nothing of it is in Redis: no article, no result, no job, no
Idempotency-Key record. Reads go on being answered (the rate limiter, which cannot count
in a full Redis, lets them through). Once Redis has room again (here: the operator raises its
``maxmemory``), the same request is accepted.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import pytest
import requests
from redis import Redis

from support.live_service import get, post, serving
from service.embedded_redis import recorded_url
from service.store import article_key, derive_article_id, idempotency_key, result_key

pytestmark = pytest.mark.slow  # every test runs claimwire serve as a process

MAXMEMORY = "4mb"
ARTICLE_CHARS = 200_000
MAX_SUBMISSIONS = 60


def article_text(n: int) -> str:
    sentence = f"Article {n}: the council said that the budget would be balanced. "
    return sentence * (ARTICLE_CHARS // len(sentence))


def jobs_naming(redis: Redis, article_id: str) -> list[bytes]:
    """The RQ jobs whose arguments name the article."""
    found = []
    for key in redis.scan_iter("rq:job:*"):
        data = redis.hget(key, "data")
        if data is not None and article_id.encode() in zlib.decompress(data):
            found.append(key)
    return found


def test_a_write_refused_for_memory_is_a_503_with_retry_after_and_nothing_stored(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        CLAIMWIRE_DATA_DIR=str(data_dir),
        CLAIMWIRE_API_PROCESSES="1",
        CLAIMWIRE_RATE_LIMIT="1000/minute",
        CLAIMWIRE_REDIS_MAXMEMORY=MAXMEMORY,
    )
    with serving(tmp_path, env) as served:
        url = recorded_url(data_dir / "redis")
        assert url is not None
        redis = Redis.from_url(url)
        assert redis.config_get("maxmemory") == {"maxmemory": str(4 * 1024 * 1024)}
        session = requests.Session()
        accepted: list[str] = []
        refused = None
        for n in range(MAX_SUBMISSIONS):
            response = post(session, f"{served.url}/v1/articles", data=article_text(n),
                            headers={"Content-Type": "text/plain", "Idempotency-Key": f"memory-{n}"})
            if response.status_code != 202:
                refused = n, response
                break
            accepted.append(response.json()["id"])
        assert refused is not None, f"{MAX_SUBMISSIONS} articles of {ARTICLE_CHARS} characters fit in {MAXMEMORY}"
        n, response = refused
        assert accepted, "not even the first article fitted"

        assert response.status_code == 503, response.text
        assert response.headers["Content-Type"] == "application/problem+json"
        assert int(response.headers["Retry-After"]) > 0
        problem = response.json()
        assert problem["type"] == "/problems/storage-unavailable" and "full" in problem["detail"]

        article_id = derive_article_id(article_text(n), None)
        assert redis.exists(article_key(article_id), result_key(article_id)) == 0
        assert redis.exists(idempotency_key(f"memory-{n}")) == 0
        assert jobs_naming(redis, article_id) == []
        assert get(session, f"{served.url}/v1/articles/{article_id}").status_code == 404
        assert get(session, f"{served.url}/v1/articles/{accepted[0]}").status_code == 200

        redis.config_set("maxmemory", "64mb")
        again = post(session, f"{served.url}/v1/articles", data=article_text(n),
                     headers={"Content-Type": "text/plain", "Idempotency-Key": f"memory-{n}"})
        assert again.status_code == 202, again.text
        assert again.json()["id"] == article_id and redis.exists(article_key(article_id)) == 1
