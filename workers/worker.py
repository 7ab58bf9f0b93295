"""The worker entry point: load the pipeline once, then run an RQ worker on the queue.

The spaCy pipeline is loaded and warmed up (one extraction, which fills the lazily built
tables of its stages) before the worker starts, and the objects it made are then frozen
out of the garbage collector: the work-horse the worker forks (:mod:`workers.horse`, one
for many jobs) inherits a ready pipeline instead of loading or warming it again, and its
collector does not write to (and so copy) the pages it shares with the worker. Recovery
from dead workers is RQ's own (execution heartbeats, StartedJobRegistry cleanup during
maintenance, ``Retry``), tuned by :class:`workers.liveness.Liveness` so that a killed
worker's article leaves ``running`` within ``CLAIMWIRE_STALE_AFTER`` seconds; the hooks in
:mod:`workers.jobs` carry RQ's decision over to the article.

A busy RQ worker whose heartbeat meets a Redis outage exits; its job is then retried like
any dead worker's. Started again (by ``serve`` or a container runtime) while Redis is
still down, ``claimwire worker`` waits for Redis (:func:`service.startup_checks.wait_for_redis`)
instead of exiting at once, so a Redis restart does not use up the supervisor's restart budget.

Jobs are read as :class:`workers.trusted_jobs.TrustedJob` with the JSON serializer: a
worker runs Claimwire's own job functions only. Its work-horse and RQ scheduler die
with it (SIGKILL), whatever killed it, so a dead worker leaves no process behind.
"""

from __future__ import annotations

import functools
import gc
import json
import random
import signal
from datetime import datetime, timezone
from typing import Any

from rq import Queue, Worker
from rq.exceptions import DeserializationError
from rq.executions import Execution
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.worker.base import logger as rq_logger

from service import metrics
from service.config import Config
from service.logs import ensure_json_logging, log_context
from service.parent_death import forks_die_with_us
from service.queueing import JOB_FUNCTIONS, JOB_SERIALIZER, REQUEST_ID_META, ExtractionJobs
from service.store import connect
from workers.claims import dump_extraction
from workers.horse import Horse, WaitResult, start_horse
from workers.jobs import record_horse_death
from workers.liveness import Liveness, bound_cleaning_locks, release_dead_scheduler_locks
from workers.memory import limit_memory
from workers.pipeline import Extractor, get_extractor
from workers.timeouts import RepeatingDeathPenalty
from workers.trusted_jobs import TrustedJob
from workers.worker_config import use_config

# Extracted once before the first job: a quote, a speaker, a time, a quantity, an outlet.
WARM_UP_TEXT = (
    "The minister said on Tuesday that taxes would rise by 5 percent next year, according to Reuters.\n\n"
    "\u201cWe have no choice,\u201d she told reporters in London."
)
WARM_UP_PUBLISHED_AT = datetime(2023, 3, 21, tzinfo=timezone.utc)
# Seconds the listener on a worker's command channel waits per poll (RQ's own wait is 60).
COMMAND_POLL = 1.0


class ExtractionWorker(Worker):
    """An RQ worker whose work-horse outlives its job, and that notices dead workers in bounded time.

    RQ forks a work-horse per job; this worker forks one (:mod:`workers.horse`) and sends it
    job after job, with RQ's monitoring, heartbeats, timeouts and handling of a dead horse
    unchanged: only the fork, the wait for the horse and the horse's loop are its own.

    Its job heartbeats outlive the monitoring interval by a set grace: RQ's own grace is
    a fixed 60 seconds, which would make a dead worker's job linger for over a minute
    whatever the configuration says. For the same reason its maintenance releases the
    scheduler lock of a dead worker's scheduler (RQ keeps it for 61 seconds), so that
    its own scheduler can take over the retries. Job timeouts use
    :class:`workers.timeouts.RepeatingDeathPenalty`; each work-horse's memory is bounded to
    ``job_memory_mb`` MiB (:mod:`workers.memory`).
    """

    death_penalty_class = RepeatingDeathPenalty
    job_class = TrustedJob

    def __init__(self, *args: Any, liveness: Liveness, job_memory_mb: int = 0, **kwargs: Any) -> None:
        self.liveness = liveness  # first: RQ's __init__ reads dequeue_timeout
        self.job_memory_mb = job_memory_mb
        self._horse: Horse | None = None
        super().__init__(
            *args,
            worker_ttl=liveness.worker_ttl,
            job_monitoring_interval=liveness.job_monitoring_interval,
            maintenance_interval=liveness.maintenance_interval,
            **kwargs,
        )

    @property
    def dequeue_timeout(self) -> int:
        """Seconds an idle worker blocks on the queue: one maintenance interval."""
        return self.liveness.maintenance_interval

    def subscribe(self) -> None:
        """RQ's subscription to this worker's command channel, its listener polling every
        ``COMMAND_POLL`` seconds instead of RQ's 60.

        A stopping worker unsubscribes, then stops the listener thread and, since redis-py 8,
        waits for it. A listener that has already read the unsubscription waits a whole poll
        for a subscription that never comes: with RQ's 60 seconds, a worker told to stop
        (SIGTERM from ``serve`` or a container runtime) could hang on for a minute.
        """
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=COMMAND_POLL, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def fork_work_horse(self, job: Job, queue: Queue) -> None:
        """Send the job to the horse, forking one first if there is none (or it has died since its last job)."""
        assert self.execution is not None  # RQ's prepare_execution has just made it
        message = json.dumps([job.id, self.execution.id, queue.name]).encode()
        if self._horse is None or not self._horse.send(message):
            self._horse = start_horse(self._become_horse, self._perform_sent_job)
            self._horse.send(message)  # a horse that died at birth is reported by wait_for_horse
        self._horse_pid = self._horse.pid

    def wait_for_horse(self) -> WaitResult:
        """Wait until the horse has finished the job, or has ended (reaped, with its wait status)."""
        if self._horse is None:
            return super().wait_for_horse()
        outcome = self._horse.wait()
        if not self._horse.alive:
            self._horse = None
        return outcome

    def teardown(self) -> None:
        """RQ's teardown, after ending the idle horse."""
        if self._horse is not None and not self.is_horse:
            self._horse.retire()
            self._horse = None
        super().teardown()

    def _become_horse(self) -> None:
        """In the freshly forked horse, once: what RQ's work-horse does first, and the memory bound."""
        random.seed()
        self.setup_work_horse_signals()
        self._is_horse = True
        self.log = rq_logger
        limit_memory(self.job_memory_mb)

    def _perform_sent_job(self, message: bytes) -> bool:
        """In the horse: run one job the worker sent, as RQ's work-horse runs it; whether it succeeded."""
        job_id, execution_id, queue_name = json.loads(message)
        job = self.job_class.fetch(job_id, connection=self.connection, serializer=self.serializer)
        queue = next(q for q in self.queues if q.name == queue_name)
        execution = Execution.fetch(execution_id, job.id, connection=self.connection)
        execution._job = job  # as RQ's spawned horse does: the execution is the job's
        self.executions.clear()
        self.executions[execution.id] = execution
        with log_context(*_log_ids(job)):
            return self.perform_job(job, queue, execution)

    def run_maintenance_tasks(self) -> None:
        """RQ's maintenance (which starts this worker's scheduler if it can take the lock), after
        releasing the lock of a dead scheduler and cutting a dead cleaner's lock (:mod:`workers.liveness`)."""
        if self.scheduler is not None:
            released = release_dead_scheduler_locks(self.connection, self.queues, self.liveness.scheduler_silence_limit)
            if released:
                self.log.warning("Worker %s: released the lock of a silent scheduler on %s", self.name, released)
        cut = bound_cleaning_locks(self.connection, self.queues, self.liveness.maintenance_interval)
        if cut:
            self.log.warning("Worker %s: cut the registry-maintenance lock on %s to %d s", self.name, cut,
                             self.liveness.maintenance_interval)
        super().run_maintenance_tasks()

    def handle_job_success(
        self, job: Job, queue: Queue, started_job_registry: StartedJobRegistry, execution: Execution
    ) -> None:
        """RQ's success handling, after forgetting the executions of dead workers that RQ would trip on."""
        forget_expired_executions(job)
        super().handle_job_success(job, queue, started_job_registry, execution)

    def execute_job(self, job: Job, queue: Queue) -> None:
        """RQ's execution, with the job's request id and article id on every log line about it
        (the work-horse forked inside inherits them)."""
        with log_context(*_log_ids(job)):
            super().execute_job(job, queue)

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        interval = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            interval = min(interval, max(1, int(job.timeout - working_time)))
        return interval + self.liveness.heartbeat_grace


def _log_ids(job: Job) -> tuple[str | None, str | None]:
    """The request id and article id of a job, for its log lines.

    Read before RQ's own checks run, so a job that is not Claimwire's (data that is not
    JSON, another function) yields none and is left to fail as :class:`TrustedJob` makes it.
    """
    meta = job.meta if isinstance(job.meta, dict) else {}
    request_id = meta.get(REQUEST_ID_META)
    try:
        ours = job.func_name in JOB_FUNCTIONS
        args = job.args if ours else ()
    except DeserializationError:
        args = ()
    article_id = args[0] if args and isinstance(args[0], str) else None
    return (request_id if isinstance(request_id, str) else None), article_id


def forget_expired_executions(job: Job) -> None:
    """Drop the executions whose record has expired from the job's execution registry.

    RQ lists an execution there 60 seconds longer than its record lives. When a dead
    worker's job is retried and finishes within that minute, deleting the finished job
    (``result_ttl=0``) fails on the missing record, and RQ fails and retries a job that
    succeeded.
    """
    registry = job.execution_registry
    for execution_id in registry.get_execution_ids():
        if not job.connection.exists(Execution(execution_id, job.id, job.connection).key):
            job.connection.zrem(registry.key, execution_id)


def prepare_pipeline() -> None:
    """Load and warm up the pipeline, then freeze what exists so that forked work-horses share it."""
    _warm_up_and_freeze(get_extractor())


@functools.cache
def _warm_up_and_freeze(extractor: Extractor) -> None:
    """Once per extractor, so that a process running many burst workers (the tests) does it once."""
    dump_extraction(extractor.extract(WARM_UP_TEXT, WARM_UP_PUBLISHED_AT))
    gc.collect()
    gc.freeze()


def run_worker(config: Config, burst: bool = False, name: str | None = None) -> None:
    """Run one worker until stopped (SIGTERM / Ctrl-C finish the current job first).

    With ``burst`` it works off the queue and the due retries, then returns.
    """
    use_config(config)
    ensure_json_logging()
    metrics.mark_worker_process()
    prepare_pipeline()
    forks_die_with_us(signal.SIGKILL)
    redis = connect(config.redis_url)
    worker = ExtractionWorker(
        [ExtractionJobs(redis, config).queue],
        connection=redis,
        name=name,
        serializer=JOB_SERIALIZER,
        liveness=Liveness.from_stale_after(config.stale_after),
        job_memory_mb=config.job_memory_mb,
        work_horse_killed_handler=record_horse_death,
    )
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
