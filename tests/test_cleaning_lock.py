"""A worker that dies while cleaning a queue's registries must not stop recovery for RQ's 15 minutes."""

from __future__ import annotations

from redis import Redis
from rq import Queue

from workers.liveness import bound_cleaning_locks


def test_a_dead_cleaners_lock_is_cut_to_one_maintenance_interval(queue: Queue, redis_conn: Redis) -> None:
    assert queue.acquire_maintenance_lock()  # RQ's own lock, as a cleaning worker that then died took it
    assert redis_conn.ttl(queue.registry_cleaning_key) > 800
    assert bound_cleaning_locks(redis_conn, [queue], 7) == [queue.name]
    assert 0 < redis_conn.ttl(queue.registry_cleaning_key) <= 7
    assert not queue.acquire_maintenance_lock()  # still held until it lapses


def test_a_short_or_missing_lock_is_left_alone(queue: Queue, redis_conn: Redis) -> None:
    assert bound_cleaning_locks(redis_conn, [queue], 7) == []
    assert not redis_conn.exists(queue.registry_cleaning_key)
    redis_conn.set(queue.registry_cleaning_key, 1, ex=3)
    assert bound_cleaning_locks(redis_conn, [queue], 7) == []
    assert 0 < redis_conn.ttl(queue.registry_cleaning_key) <= 3
