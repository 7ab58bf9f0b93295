"""Proof: Redis restarts with articles queued and in flight; every accepted article still ends ``done``.

A private Redis with append-only persistence (:class:`EmbeddedRedis`) on a fixed port,
and ``claimwire serve`` on it (two workers, the API), all real processes talking over
loopback. Articles are submitted over HTTP; once one is ``running``, Redis is stopped
with SIGTERM (it writes its AOF and exits), stays down for ``DOWN_FOR`` seconds, and is
started again on the same port and data directory. Every article that got a 202 must
then end ``done``, with nothing left in RQ's queue or registries. A busy worker exits when its heartbeat meets the outage; ``serve`` restarts
it, and the new one waits for Redis: each worker is restarted at most once, and ``serve``
keeps running.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
import requests
from redis import Redis
from rq import Queue

from service.embedded_redis import EmbeddedRedis, bundled_redis_server
from support.fixtures_api import rq_leftovers
from support.live_service import HTTP_TIMEOUT, serving
from support.seeds import SEED_TEXT
from support.ports import server_port
from support.waiting import log_tail, poll

pytestmark = pytest.mark.slow  # a proof

ARTICLES = 12
COPIES = 8  # copies of the seed article per text: about half a second of extraction each
STALE_AFTER = 8
QUEUE = "claimwire"
WORKERS = 2
DOWN_FOR = 5.0  # longer than a job's heartbeat lives (4 s) and than a worker takes to restart
RUNNING_TIMEOUT = 60.0
RECOVERY_TIMEOUT = 300.0  # a safety net: the assertion is that every article ends done
RQ_SETTLE_TIMEOUT = 30.0


def article_text(n: int) -> str:
    return "\n\n".join([SEED_TEXT] * COPIES) + f"\n\nArticle {n}."


def status_of(session: requests.Session, url: str) -> str | None:
    """The article's status, or None while the service cannot answer (Redis down or reconnecting)."""
    try:
        response = session.get(url, timeout=HTTP_TIMEOUT)
    except requests.RequestException:
        return None
    return response.json()["status"] if response.status_code == 200 else None


def test_articles_accepted_before_a_redis_restart_end_done(tmp_path: Path):
    started = time.monotonic()
    redis_server = EmbeddedRedis(tmp_path / "redis", port=server_port(), executable=bundled_redis_server())
    redis_server.start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMWIRE_")}
        env.update(
            REDIS_URL=redis_server.url,
            CLAIMWIRE_QUEUE=QUEUE,
            CLAIMWIRE_STALE_AFTER=str(STALE_AFTER),
            CLAIMWIRE_API_PROCESSES="1",
            CLAIMWIRE_RATE_LIMIT="off",  # the test polls every article's status many times a second
        )
        with serving(tmp_path, env, workers=WORKERS) as service:
            session = requests.Session()
            urls = []
            for n in range(ARTICLES):
                response = session.post(
                    f"{service.url}/v1/articles",
                    data=article_text(n),
                    headers={"Content-Type": "text/plain"},
                    timeout=HTTP_TIMEOUT,
                )
                assert response.status_code == 202, response.text
                urls.append(f"{service.url}{response.headers['Location']}")

            poll(
                lambda: [status_of(session, url) for url in urls],
                lambda found: "running" in found,
                RUNNING_TIMEOUT,
                "an article to be running",
                service.process,
                service.log,
                interval=0.02,
            )
            before = [status_of(session, url) for url in urls]
            redis_server.stop()
            time.sleep(DOWN_FOR)
            redis_server.start()
            back_at = time.monotonic()

            done_after: dict[str, float] = {}

            def all_done() -> bool:
                for url in urls:
                    if url not in done_after and status_of(session, url) == "done":
                        done_after[url] = time.monotonic() - back_at
                return len(done_after) == len(urls)

            try:
                poll(all_done, bool, RECOVERY_TIMEOUT, "every accepted article to end done", service.process, service.log)
            finally:
                final = [status_of(session, url) for url in urls]
                restarts = len(re.findall(r"worker-\d+ exited with", service.log.read_text(errors="replace")))
                print(
                    f"\nbefore the restart: {before}\nafter: {final}\n"
                    f"{sum(s == 'done' for s in final)}/{len(urls)} done, {restarts} worker restarts; the slowest "
                    f"{max(done_after.values(), default=float('nan')):.1f}s after Redis was back; "
                    f"wall {time.monotonic() - started:.1f}s"
                )
            assert service.process.poll() is None, log_tail(service.log)
            assert restarts <= WORKERS, log_tail(service.log)
            # The last job's own bookkeeping ends a moment after its article is done.
            queue = Queue(QUEUE, connection=Redis.from_url(redis_server.url))
            poll(lambda: rq_leftovers(queue), lambda left: not left, RQ_SETTLE_TIMEOUT, "RQ's queue and registries")
    finally:
        redis_server.stop()
