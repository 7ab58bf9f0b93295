"""Calls of one Lua script made by concurrent requests, sent to Redis together.

Every API request runs the request gate's script (:mod:`service.request_gate`), one
``EVALSHA`` each. A round trip costs both Redis and the API process more CPU than the
script itself (a socket write and read on each side, and a wake-up), so on a loaded
machine the round trips, not the checks, are most of the gate's cost. An API process
serves many requests at once (gevent), so while one call is on its way, others wait
to be sent: they go together as one pipeline, each script still run on its own
(atomically, as alone), each caller getting its own reply or error.

The batching is natural: nothing waits for a batch to fill. A call made while none is
on its way is sent at once (it leads); calls made meanwhile queue. When a batch is
answered, its leader hands the lead to the first call queued, which sends everything
queued (up to :data:`MAX_BATCH`) as the next batch. A lone request pays nothing.

Since only the leader sends, the batches keep one connection of their own and write to it
directly: redis-py's pool checkout and release and its per-command bookkeeping were a fifth
of a gate call's client CPU. Its settings are the client's (timeouts, health checks, no
retries); an error leaves it closed, to be made again by the next batch.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from redis import Redis
from redis.commands.core import Script
from redis.connection import Connection
from redis.exceptions import NoScriptError, RedisError, ResponseError

MAX_BATCH = 32  # calls per pipeline: a batch keeps Redis from other clients for its scripts' time
WAIT_LIMIT = 90.0  # seconds a queued call waits for its batch: longer than any socket timeout


class _Call:
    """One call of the script: its keys and arguments, then its reply or error."""

    __slots__ = ("keys", "args", "reply", "error", "answered", "turn")

    def __init__(self, keys: Sequence[Any], args: Sequence[Any]) -> None:
        self.keys, self.args = keys, args
        self.reply: Any = None
        self.error: BaseException | None = RedisError("the script's batch was not sent")
        self.answered = False
        self.turn = threading.Event()  # set when answered, or when it is this call's turn to lead

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.reply


class ScriptBatches:
    """Runs ``script`` for concurrent callers, the calls queued while one batch is out sent as the next."""

    def __init__(self, redis: Redis, script: Script) -> None:
        self.redis = redis
        self.script = script
        self._lock = threading.Lock()
        self._queue: list[_Call] = []
        self._out = False  # whether a batch is on its way (its leader sends the next)
        self._connection: Connection | None = None
        self._pid = 0

    def __call__(self, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        """The script's reply to ``keys`` and ``args``; raises its error (a :class:`RedisError`)."""
        call = _Call(keys, args)
        with self._lock:
            self._queue.append(call)
            leads = not self._out
            self._out = True
        if not leads:
            if not call.turn.wait(WAIT_LIMIT):
                with self._lock:
                    if not call.turn.is_set():  # still queued (or still out): give up, leaving the queue
                        if call in self._queue:
                            self._queue.remove(call)
                        raise RedisError("the script's batch was not answered in time")
            if call.answered:
                return call.result()
        self._lead()
        return call.result()

    def _lead(self) -> None:
        """Send what is queued (this call first) as one batch, then hand the lead on."""
        with self._lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            self._send(batch)
        finally:
            for call in batch:
                call.answered = True
                call.turn.set()
            with self._lock:
                if self._queue:
                    self._queue[0].turn.set()  # not answered: its turn to lead
                else:
                    self._out = False

    def _send(self, batch: list[_Call]) -> None:
        """Fill in each call's reply or error."""
        connection = self._own_connection()
        try:
            replies = connection.retry.call_with_retry(
                lambda: self._exchange(connection, batch), lambda _: connection.disconnect()
            )
        except RedisError as error:
            connection.disconnect()
            for call in batch:
                call.error = error
            return
        for call, reply in zip(batch, replies):
            if isinstance(reply, NoScriptError):  # Redis lost its scripts (restarted): once more, loading it
                self._send_alone(call)
            elif isinstance(reply, Exception):
                call.error = reply
            else:
                call.reply, call.error = reply, None

    def _own_connection(self) -> Connection:
        """The batches' own connection (see the module's docstring), made in this process on first use."""
        if self._connection is None or self._pid != os.getpid():
            pool = self.redis.connection_pool
            self._connection, self._pid = pool.connection_class(**pool.connection_kwargs), os.getpid()
        return self._connection

    def _exchange(self, connection: Connection, batch: list[_Call]) -> list[Any]:
        """Send the batch's calls together and read their replies, an error reply as its exception.

        An exchange cut short closes the connection, so that no later batch reads its replies; a
        connection with a reply no call waits for anyway is made afresh, as redis-py's pool
        checks the connections it hands out. The check reads the socket without waiting, which
        under gevent passes through the event loop: the other requests of the process get their
        turn. Without it, a leader whose replies were always already there served request after
        request alone, and the read path's p99 at 10 connections went from about 9 ms to 60–90
        ms."""
        if connection.can_read():
            connection.disconnect()
        sha = self.script.sha
        replies: list[Any] = []
        try:
            connection.send_packed_command(
                connection.pack_commands([("EVALSHA", sha, len(c.keys), *c.keys, *c.args) for c in batch])
            )
            for _ in batch:
                try:
                    replies.append(connection.read_response())
                except ResponseError as error:
                    replies.append(error)
        except BaseException:  # cut short (a timeout, a killed greenlet): replies may still come
            connection.disconnect()
            raise
        return replies

    def _send_alone(self, call: _Call) -> None:
        """The call alone through the client's pool, which loads the script when Redis lost it."""
        try:
            call.reply, call.error = self.script(keys=call.keys, args=call.args), None
        except RedisError as error:
            call.error = error
