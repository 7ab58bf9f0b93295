"""The webhook delivery worker: an RQ worker on the webhooks queue alone.

It loads no model and never takes an extraction job, so receivers that are slow or down
cost extraction nothing. Dead-worker recovery, retries, the JSON job format and the
allow-list of job functions are the same as the extraction worker's
(:class:`workers.worker.ExtractionWorker`, tuned by ``CLAIMWIRE_STALE_AFTER``): a worker
killed mid-delivery has its job retried, so the event is not lost. Its work-horse and
scheduler die with it, as the extraction worker's do.
"""

from __future__ import annotations

import signal

from rq import Queue

from service.config import Config
from service.parent_death import forks_die_with_us
from service.queueing import JOB_SERIALIZER
from service.store import connect
from service.webhook_events import webhooks_queue_name
from workers.deliveries import record_delivery_horse_death
from workers.liveness import Liveness
from workers.worker import ExtractionWorker
from workers.worker_config import use_config


def run_delivery_worker(config: Config, burst: bool = False, name: str | None = None) -> None:
    """Run one delivery worker until stopped (SIGTERM finishes the current delivery first)."""
    forks_die_with_us(signal.SIGKILL)
    use_config(config)
    redis = connect(config.redis_url)
    worker = ExtractionWorker(
        [Queue(webhooks_queue_name(config), connection=redis, serializer=JOB_SERIALIZER)],
        connection=redis,
        name=name,
        serializer=JOB_SERIALIZER,
        liveness=Liveness.from_stale_after(config.stale_after),
        work_horse_killed_handler=record_delivery_horse_death,
    )
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
