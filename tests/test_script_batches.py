"""Script calls of concurrent requests go to Redis together, each with its own reply or error."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.connection import Connection, ConnectionPool
from redis.exceptions import ConnectionError, ResponseError

from service.embedded_redis import free_port
from service.keys import ApiKeys
from service.script_batches import ScriptBatches, _Call
from support.fixtures_api import SHORT_TEXT

# Each call counts its own key and answers with it; a key named "bad" is an error.
SCRIPT = "if KEYS[1] == 'bad' then return redis.error_reply('bad key') end return {KEYS[1], redis.call('INCR', KEYS[1])}"
FOLLOWERS = 7
BOUND = 10.0  # seconds any wait of these tests lasts at most
CLIENTS, READS = 16, 200  # concurrent HTTP clients, and the reads they make
HTTP_TIMEOUT = 30.0


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The packed commands sent to Redis that ran a script: one entry per socket write."""
    sent: list[bytes] = []
    original = Connection.send_packed_command

    def counted(connection: Connection, command: object, check_health: bool = True) -> None:
        packed = b"".join(command) if isinstance(command, list) else command
        if b"EVALSHA" in packed:  # type: ignore[operator]
            sent.append(packed)  # type: ignore[arg-type]
        original(connection, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counted)
    return sent


@pytest.fixture
def batches(redis_conn: Redis) -> Iterator[ScriptBatches]:
    """Batches of the script, which Redis has loaded."""
    redis_conn.script_load(SCRIPT)
    yield ScriptBatches(redis_conn, redis_conn.register_script(SCRIPT))


def run_while_paused(redis_conn: Redis, batches: ScriptBatches, keys: list[str]) -> list[object]:
    """Call the script for each key in its own thread: the first while Redis holds every script,
    the others once the first is out, then let Redis go once they all queued. Replies (or errors) in order."""
    answers: list[object] = [None] * len(keys)

    def call(i: int) -> None:
        try:
            answers[i] = batches([keys[i]], [])
        except Exception as error:  # noqa: BLE001 - the error is the answer
            answers[i] = error

    redis_conn.execute_command("CLIENT", "PAUSE", int(BOUND * 1000), "WRITE")  # scripts wait; CLIENT UNPAUSE does not
    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(keys))]
    try:
        threads[0].start()
        deadline = time.monotonic() + BOUND
        while not batches._out and time.monotonic() < deadline:
            time.sleep(0.01)
        for thread in threads[1:]:
            thread.start()
        while len(batches._queue) < len(keys) - 1 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        redis_conn.execute_command("CLIENT", "UNPAUSE")
    for thread in threads:
        thread.join(BOUND)
    return answers


def test_calls_made_while_one_is_out_go_together_each_with_its_own_reply(redis_conn, batches, sends):
    keys = [f"k{i}" for i in range(1 + FOLLOWERS)]
    answers = run_while_paused(redis_conn, batches, keys)
    assert answers == [[key.encode(), 1] for key in keys]
    assert len(sends) == 2  # the first alone, then the seven queued behind it in one pipeline
    assert sends[1].count(b"EVALSHA") == FOLLOWERS
    assert not batches._out and not batches._queue


def test_an_error_is_the_answer_of_its_own_call_only(redis_conn, batches, sends):
    keys = ["a", "b", "bad", "c"]
    answers = run_while_paused(redis_conn, batches, keys)
    assert answers[0] == [b"a", 1] and answers[1] == [b"b", 1] and answers[3] == [b"c", 1]
    assert isinstance(answers[2], ResponseError) and "bad key" in str(answers[2])
    assert len(sends) == 2


def test_a_lone_call_is_sent_at_once(batches, sends):
    assert batches(["solo"], []) == [b"solo", 1]
    assert batches(["solo"], []) == [b"solo", 2]
    assert len(sends) == 2 and all(send.count(b"EVALSHA") == 1 for send in sends)


def test_a_batch_reloads_a_script_redis_lost(redis_conn, batches):
    batches(["x"], [])
    redis_conn.script_flush()
    calls = [_Call(["x"], []), _Call(["y"], [])]
    batches._send(calls)
    assert [call.result() for call in calls] == [[b"x", 2], [b"y", 1]]


def test_calls_go_over_the_batches_own_connection_not_through_the_pool(batches, monkeypatch):
    checkouts: list[object] = []
    get_connection = ConnectionPool.get_connection

    def counted(pool: ConnectionPool, *args: object, **kwargs: object) -> Connection:
        checkouts.append(args)
        return get_connection(pool, *args, **kwargs)

    monkeypatch.setattr(ConnectionPool, "get_connection", counted)
    assert [batches(["one"], []) for _ in range(3)] == [[b"one", 1], [b"one", 2], [b"one", 3]]
    assert checkouts == []


def test_a_connection_redis_dropped_is_made_again_after_one_error(redis_conn, batches):
    assert batches(["k"], []) == [b"k", 1]
    assert redis_conn.client_kill_filter(_type="normal", skipme=True) >= 1  # the batches' connection among them
    with pytest.raises(ConnectionError):  # as for any client of the service: no retries (service.store.connect)
        batches(["k"], [])
    assert batches(["k"], []) == [b"k", 2]
    assert not batches._out and not batches._queue


def test_a_connection_out_of_step_is_made_afresh_before_a_batch(batches):
    assert batches(["s"], []) == [b"s", 1]
    connection = batches._own_connection()
    connection.send_command("PING")  # a reply no call waits for
    assert connection.can_read(timeout=BOUND)  # arrived, not still on its way
    assert batches(["s"], []) == [b"s", 2]


class Interrupted(BaseException):
    """What a timeout or a killed greenlet raises in the middle of a read."""


def test_an_exchange_cut_short_closes_the_connection_so_no_batch_reads_its_replies(batches, monkeypatch):
    assert batches(["c"], []) == [b"c", 1]
    connection = batches._own_connection()
    read_response = connection.read_response
    reads = iter([read_response, lambda *a, **k: (_ for _ in ()).throw(Interrupted())])
    monkeypatch.setattr(connection, "read_response", lambda *a, **k: next(reads)(*a, **k))
    with pytest.raises(Interrupted):
        batches._send([_Call(["c"], []), _Call(["d"], [])])  # the second reply is left unread
    assert connection._sock is None
    monkeypatch.undo()
    assert batches(["d"], []) == [b"d", 2]


def test_a_forked_process_makes_its_own_connection(batches):
    assert batches(["f"], []) == [b"f", 1]
    parents = batches._own_connection()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own connection, not the parent's socket
        answered = batches(["f"], []) == [b"f", 2] and batches._own_connection() is not parents
        os.write(write, b"1" if answered else b"0")
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"
    assert batches(["f"], []) == [b"f", 3] and batches._own_connection() is parents


def test_every_call_of_a_batch_redis_cannot_take_gets_the_error():
    dead = Redis(port=free_port(), socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    batches = ScriptBatches(dead, dead.register_script(SCRIPT))
    calls = [_Call(["x"], []), _Call(["y"], [])]
    batches._send(calls)
    for call in calls:
        with pytest.raises(ConnectionError):
            call.result()
    with pytest.raises(ConnectionError):
        batches(["z"], [])
    assert not batches._out and not batches._queue  # the lead is not lost


def test_under_gunicorns_gevent_workers_each_concurrent_read_is_counted_once(start_api, redis_conn, work_off):
    """Many reads at once in one gevent process: each passes the gate once, with its own count."""
    _, token = ApiKeys(redis_conn).create("cms")
    auth = {"Authorization": f"Bearer {token}"}
    api = start_api(api_processes=1, rate_limit="100000/minute")
    posted = requests.post(f"{api}/v1/articles", json={"text": SHORT_TEXT}, headers=auth, timeout=HTTP_TIMEOUT)
    work_off()
    claims = f"{api}/v1/articles/{posted.json()['id']}/claims"
    first = requests.get(claims, headers=auth, timeout=HTTP_TIMEOUT)
    assert first.status_code == 200
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(lambda _: requests.get(claims, headers=auth, timeout=HTTP_TIMEOUT), range(READS)))
    assert all(a.status_code == 200 and a.content == first.content for a in answers)
    remaining = sorted(int(a.headers["X-RateLimit-Remaining"]) for a in answers)
    start = int(first.headers["X-RateLimit-Remaining"])
    assert remaining == list(range(start - READS, start))
