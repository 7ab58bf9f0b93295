"""Proof: a burst of 5,000 submissions (30% duplicates) from concurrent clients over loopback.

Every 200/202 is accounted for (its article is stored, queued once, under the id the
response named), duplicates queue no extra job, and nothing answers 5xx. No worker runs,
so every accepted article must still be waiting in the queue at the end.

A client resends a POST whose kept-alive connection the server closed as it was sent
(gunicorn closes a connection idle for 2 s; a busy machine can stall a client that long).
That is safe because a submission is idempotent by its text, which the proof checks too:
one text, one id, one job.
"""

from __future__ import annotations

import random
import time
from collections import Counter
import pytest
from concurrent.futures import ThreadPoolExecutor

import requests
from redis import Redis
from rq import Queue
from rq.job import Job

from service.keys import ApiKeys
from service.queueing import JOB_SERIALIZER
from service.store import QUEUED, Article, article_key
from support.fixtures_http import ApiFactory

pytestmark = pytest.mark.slow  # a proof

SUBMISSIONS = 5_000
DUPLICATE_SHARE = 0.3
CLIENTS = 16
API_PROCESSES = 2
BURST_DEADLINE = 600.0  # a safety net against a hung server, not a speed requirement
HTTP_TIMEOUT = 30.0
RESENDS = 3  # per POST, only after a connection the server closed


def burst_texts(seed: int = 7) -> list[str]:
    """5,000 texts of which 30% repeat an earlier distinct text, in shuffled order."""
    rng = random.Random(seed)
    distinct = round(SUBMISSIONS * (1 - DUPLICATE_SHARE))
    texts = [f"Official {i} said that the budget would grow by {i % 97} percent next year." for i in range(distinct)]
    texts += [rng.choice(texts) for _ in range(SUBMISSIONS - distinct)]
    rng.shuffle(texts)
    return texts


def test_a_burst_of_5000_submissions_is_fully_accounted_for(start_api: ApiFactory, queue: Queue, redis_conn: Redis):
    _, token = ApiKeys(redis_conn).create("burst")
    url = start_api(api_processes=API_PROCESSES, rate_limit="100000/minute", max_queue_depth=SUBMISSIONS)
    texts = burst_texts()
    deadline = time.monotonic() + BURST_DEADLINE
    sessions = [requests.Session() for _ in range(CLIENTS)]
    for session in sessions:
        session.headers["Authorization"] = f"Bearer {token}"

    resent: list[int] = []

    def submit(index: int) -> tuple[str, int, str | None]:
        if time.monotonic() > deadline:
            return texts[index], -1, None
        for resend in range(RESENDS + 1):
            try:
                response = sessions[index % CLIENTS].post(f"{url}/v1/articles", json={"text": texts[index]}, timeout=HTTP_TIMEOUT)
                break
            except requests.ConnectionError:
                if resend == RESENDS:
                    raise
                resent.append(index)
        body = response.json()
        return texts[index], response.status_code, body.get("id")

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        outcomes = list(pool.map(submit, range(SUBMISSIONS)))
    elapsed = time.monotonic() - started

    statuses = Counter(status for _, status, _ in outcomes)
    print(f"\nburst: {SUBMISSIONS} POSTs by {CLIENTS} clients in {elapsed:.1f} s "
          f"({SUBMISSIONS / elapsed:.0f}/s); statuses {dict(statuses)}; {len(resent)} resent after a closed connection")
    assert -1 not in statuses, f"the burst did not finish within {BURST_DEADLINE:.0f} s"
    assert set(statuses) <= {200, 202}, statuses

    ids_by_text: dict[str, set[str]] = {}
    for text, _, article_id in outcomes:
        ids_by_text.setdefault(text, set()).add(article_id)
    assert all(len(ids) == 1 for ids in ids_by_text.values()), "one text answered with two ids"
    distinct_ids = {next(iter(ids)) for ids in ids_by_text.values()}
    assert len(distinct_ids) == len(set(texts)) == round(SUBMISSIONS * (1 - DUPLICATE_SHARE))

    job_ids = queue.get_job_ids()
    print(f"burst: {len(distinct_ids)} distinct articles, {len(job_ids)} jobs queued")
    assert len(job_ids) == len(set(job_ids)) == len(distinct_ids), "a duplicate queued a job, or one was lost"
    with redis_conn.pipeline(transaction=False) as pipe:
        for article_id in sorted(distinct_ids):
            pipe.hgetall(article_key(article_id))
        stored = [Article.from_hash(raw) for raw in pipe.execute()]
    assert all(article.status == QUEUED for article in stored)
    assert {article.job_id for article in stored} == set(job_ids)
    jobs = Job.fetch_many(job_ids, connection=redis_conn, serializer=JOB_SERIALIZER)
    assert {job.args[0] for job in jobs} == distinct_ids
