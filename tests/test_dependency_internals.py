"""The RQ and gunicorn internals the service subclasses or patches still have the shape it expects.

``rq`` and ``gunicorn`` are pinned to a minor version in pyproject.toml; these checks say
exactly what broke when a new version is tried, before any behaviour test fails obscurely.
"""

from __future__ import annotations

import inspect
import tomllib
from importlib.metadata import version

from gunicorn import util
from gunicorn.workers.base import Worker as GunicornWorker
from gunicorn.workers.ggevent import GeventWorker
from packaging.requirements import Requirement
from rq import Worker
from rq.executions import Execution, ExecutionRegistry
from rq.registry import StartedJobRegistry
from rq.scheduler import RQScheduler
from rq.scripts import release_lock
from rq.timeouts import UnixSignalDeathPenalty
from rq.worker.base import BaseWorker

from service.http_server import ProblemGeventWorker, write_problem
from support import REPO
from workers.liveness import Liveness
from workers.timeouts import RepeatingDeathPenalty
from workers.worker import ExtractionWorker

def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_the_installed_versions_are_the_pinned_ones():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = {r.name: r.specifier for r in map(Requirement, project["dependencies"])}
    for name in ("rq", "gunicorn"):
        assert version(name) in pins[name], f"{name} {version(name)} is not {pins[name]}"


def test_the_rq_worker_methods_overridden_keep_their_signatures():
    for name in ("run_maintenance_tasks", "handle_job_success", "get_heartbeat_ttl", "subscribe"):
        ours, theirs = getattr(ExtractionWorker, name), getattr(Worker, name)
        assert parameters(ours) == parameters(theirs), name
    assert isinstance(inspect.getattr_static(BaseWorker, "dequeue_timeout"), property)
    init = parameters(Worker.__init__)
    for name in ("worker_ttl", "job_monitoring_interval", "maintenance_interval", "work_horse_killed_handler", "name"):
        assert name in init, name


def test_rq_still_listens_and_stops_listening_as_the_subscribe_override_copies():
    """ExtractionWorker.subscribe copies RQ's, with another poll; RQ's stop reads what it sets."""
    subscribe, unsubscribe = inspect.getsource(BaseWorker.subscribe), inspect.getsource(BaseWorker.unsubscribe)
    assert "run_in_thread(" in subscribe and "sleep_time=60" in subscribe
    assert "self.pubsub.unsubscribe()" in unsubscribe and "self.pubsub_thread.stop()" in unsubscribe


def test_rq_still_blocks_for_dequeue_timeout_and_heartbeats_by_get_heartbeat_ttl():
    """The overrides only matter if RQ's own loop calls them."""
    assert "self.dequeue_timeout" in inspect.getsource(BaseWorker.work)
    assert "self.run_maintenance_tasks()" in inspect.getsource(BaseWorker.work)
    rq_worker = inspect.getsource(BaseWorker)
    assert "self.get_heartbeat_ttl(" in rq_worker and "with self.death_penalty_class(" in rq_worker
    assert "self.handle_job_success(" in rq_worker


def test_an_extraction_worker_blocks_one_maintenance_interval(redis_conn):
    liveness = Liveness.from_stale_after(8)
    worker = ExtractionWorker(["claimwire-internals"], connection=redis_conn, liveness=liveness)
    assert worker.dequeue_timeout == liveness.maintenance_interval
    assert worker.worker_ttl == liveness.worker_ttl > worker.dequeue_timeout
    assert worker.maintenance_interval == liveness.maintenance_interval


def test_the_abandoned_job_path_calls_the_failure_callback():
    """workers.jobs.record_failure learns of a dead worker's job only through this call."""
    source = inspect.getsource(StartedJobRegistry.cleanup)
    assert "execute_failure_callback" in source and "AbandonedJobError" in source


def test_the_rq_scheduler_and_execution_internals_used_are_there():
    assert parameters(RQScheduler.get_locking_key) == ["name"]
    assert parameters(RQScheduler.fetch) == ["name", "connection"]
    assert parameters(release_lock) == ["connection", "lock_key", "owner_token"]
    assert parameters(Execution.__init__)[1:4] == ["id", "job_id", "connection"]
    assert isinstance(inspect.getattr_static(Execution, "key"), property)
    assert callable(ExecutionRegistry.get_execution_ids)


def test_the_death_penalty_hooks_are_rq_s():
    for name in ("setup_death_penalty", "cancel_death_penalty", "handle_death_penalty"):
        assert callable(getattr(UnixSignalDeathPenalty, name)), name
    penalty = RepeatingDeathPenalty(3)
    assert penalty._timeout == 3


def test_gunicorn_writes_its_errors_through_util_write_error():
    assert parameters(util.write_error) == ["sock", "status_int", "reason", "mesg"]  # called positionally
    assert len(parameters(write_problem)) == 4
    assert parameters(util.write_nonblock)[:2] == ["sock", "data"]
    assert "util.write_error(" in inspect.getsource(GunicornWorker.handle_error)
    assert GeventWorker.init_process is not ProblemGeventWorker.init_process
    assert parameters(GeventWorker.init_process) == parameters(ProblemGeventWorker.init_process)
