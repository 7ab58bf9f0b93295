"""How fast a dead worker is noticed: RQ's heartbeat and maintenance timings from one setting.

RQ records each running job in the queue's StartedJobRegistry with a deadline that the
worker pushes forward with a heartbeat every ``job_monitoring_interval`` seconds, by
that interval plus ``heartbeat_grace``. When a worker is killed (kill -9, lost host) the
deadline passes, and the next registry maintenance of any live worker, run every
``maintenance_interval`` seconds, retries the job or fails it. Splitting
``CLAIMWIRE_STALE_AFTER`` (S) as S/4 + S/4 + S/2 bounds the time from the kill to that
decision by S. An idle worker blocks on the queue for at most ``maintenance_interval``
seconds (the worker's ``dequeue_timeout``), so it wakes up for maintenance in time.

Retries wait in the ScheduledJobRegistry for the one RQ scheduler that holds the queue's
scheduler lock, a lock RQ keeps for 61 seconds after its holder's last heartbeat. A
worker's maintenance releases the lock of a scheduler silent for as long as a job's
heartbeat may be (S/2), and its own scheduler takes over: a retry outlives a dead
scheduler by about S (S/2 more when the only live worker has just started), not by a
minute. Likewise the lock of a queue's registry maintenance, which RQ takes for 899
seconds and releases when the cleaning ends: a worker that dies while cleaning (its Redis
went away mid-clean) would leave it, and no worker would notice a dead job on that queue
for 15 minutes. A worker's maintenance cuts such a lock to one maintenance interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from redis import Redis
from rq import Queue, Worker
from rq.exceptions import SchedulerNotFound
from rq.scheduler import RQScheduler
from rq.scripts import release_lock

# Seconds a worker's registration outlives its longest wait on the queue.
WORKER_TTL_MARGIN = 15


@dataclass(frozen=True, slots=True)
class Liveness:
    """RQ worker settings derived from ``stale_after``."""

    job_monitoring_interval: int
    heartbeat_grace: int
    maintenance_interval: int

    @classmethod
    def from_stale_after(cls, stale_after: int) -> Liveness:
        quarter = max(1, stale_after // 4)
        return cls(
            job_monitoring_interval=quarter,
            heartbeat_grace=quarter,
            maintenance_interval=max(1, stale_after - 2 * quarter),
        )

    @property
    def worker_ttl(self) -> int:
        """rq's worker_ttl: the registration of an idle worker outlives its wait on the queue."""
        return self.maintenance_interval + WORKER_TTL_MARGIN

    @property
    def silence_limit(self) -> timedelta:
        """A worker whose last heartbeat is older than this is taken for dead."""
        return timedelta(seconds=self.worker_ttl + self.heartbeat_grace)

    @property
    def scheduler_silence_limit(self) -> timedelta:
        """A scheduler (it beats every second) whose last heartbeat is older than this is taken for dead."""
        return timedelta(seconds=self.job_monitoring_interval + self.heartbeat_grace)


def count_live_workers(redis: Redis, queue_name: str, stale_after: int) -> int:
    """Workers listening on the queue whose heartbeat is recent."""
    limit = Liveness.from_stale_after(stale_after).silence_limit
    now = datetime.now(timezone.utc)
    workers = Worker.all(queue=Queue(queue_name, connection=redis))
    return sum(1 for w in workers if w.last_heartbeat and now - w.last_heartbeat <= limit)


def release_dead_scheduler_locks(redis: Redis, queues: list[Queue], silence_limit: timedelta) -> list[str]:
    """Release the scheduler lock of each queue whose holder has been silent too long.

    A holder whose record is not written yet (it is starting) is left alone; the release
    is atomic and only if the lock still names that holder. Like the workers' liveness,
    this compares heartbeats written by other hosts with our clock. Returns the queues
    whose lock was released.
    """
    now = datetime.now(timezone.utc)
    released: list[str] = []
    for queue in queues:
        key = RQScheduler.get_locking_key(queue.name)
        raw_holder = redis.get(key)
        if raw_holder is None:
            continue
        holder = raw_holder.decode()
        try:
            beat = RQScheduler.fetch(holder, connection=redis).last_heartbeat
        except SchedulerNotFound:
            continue
        if beat is not None and now - beat > silence_limit and release_lock(redis, key, holder):
            released.append(queue.name)
    return released


def bound_cleaning_locks(redis: Redis, queues: list[Queue], seconds: int) -> list[str]:
    """Cut each queue's registry-maintenance lock to ``seconds`` where it would live longer.

    A cleaning takes well under a second, so a live holder is done long before; a dead
    holder's lock then lapses within ``seconds`` instead of RQ's 899. Returns the queues
    whose lock was cut.
    """
    cut: list[str] = []
    for queue in queues:
        if redis.ttl(queue.registry_cleaning_key) > seconds:
            redis.expire(queue.registry_cleaning_key, seconds)
            cut.append(queue.name)
    return cut
