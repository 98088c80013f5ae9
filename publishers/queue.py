"""Publisher jobs on a distributed queue: RQ on Redis.

Why RQ: a job here is one call (``run_with_retries``) that already owns its time limit, retries and
lock, so the queue only has to carry a job path to a free worker; RQ does that with one Redis server
(Debian's ``redis-server``), forks a fresh work horse per job (no state leaks between runs) and kills a
work horse past its ``job_timeout``. Celery brings a broker/backend/beat stack we would not use, and
procrastinate would tie the queue to PostgreSQL while the embedded catalog is SQLite.

Workers read their settings from their own environment (``OPENDATA_HOME`` and the rest), so every
worker must see the same data folder; the embedded default (no ``OPENDATA_QUEUE_URL``) is unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opendata.errors import ConfigurationError
from opendata.settings import Settings
from publishers.job import load_job
from publishers.supervise import run_with_retries

QUEUE_NAME = "opendata-jobs"


def _redis(url: str) -> Any:
    from redis import Redis

    return Redis.from_url(url)


def queue(url: str) -> Any:
    from rq import Queue

    return Queue(QUEUE_NAME, connection=_redis(url))


def run_queued_job(job_path: str, trigger: str = "queue") -> dict[str, Any]:
    """The task a worker runs: the same supervised run as the embedded scheduler's."""
    from rq import get_current_job

    current = get_current_job()
    worker = current.worker_name if current is not None else None
    outcome = run_with_retries(job_path, Settings(), trigger=trigger, worker=worker)
    run = outcome.run
    return {"job": outcome.job, "run_id": run.run_id if run else None, "state": run.state if run else None,
            "attempts": outcome.attempts, "skipped": outcome.skipped, "timed_out": outcome.timed_out}


def rq_timeout(job_path: Path, settings: Settings) -> int:
    """Long enough for every try and every backoff, so RQ only kills a work horse that is truly stuck."""
    job = load_job(job_path)
    per_try = job.timeout or settings.job_timeout_seconds
    waits = sum(min(job.retries.backoff_seconds * 2**i, job.retries.max_backoff_seconds)
                for i in range(job.retries.attempts - 1))
    return int(per_try * job.retries.attempts + waits + 120)


class QueueDispatcher:
    """Enqueues fired jobs; a job whose last enqueued run is still queued or started is not enqueued again."""

    def __init__(self, settings: Settings, url: str | None = None) -> None:
        url = url or settings.queue_url
        if not url:
            raise ConfigurationError("no queue URL: set OPENDATA_QUEUE_URL or pass --queue redis://host:port/0")
        self.settings = settings
        self.queue = queue(url)
        self._last: dict[str, Any] = {}

    def running(self, name: str) -> bool:
        job = self._last.get(name)
        if job is None:
            return False
        status = job.get_status(refresh=True)
        return str(getattr(status, "value", status)) in ("queued", "started", "deferred", "scheduled")

    def dispatch(self, job_path: Path, name: str, trigger: str = "schedule") -> Any:
        from publishers.harvest.spec import is_harvest_file, load_harvest

        if is_harvest_file(Path(job_path)):
            harvest = self.queue.enqueue(run_queued_harvest, str(Path(job_path).resolve()), trigger,
                                         job_timeout=int(load_harvest(job_path).timeout + 120),
                                         result_ttl=7 * 86400, description=f"harvest {name}")
            self._last[name] = harvest
            return harvest
        job = self.queue.enqueue(run_queued_job, str(Path(job_path).resolve()), trigger,
                                 job_timeout=rq_timeout(job_path, self.settings), result_ttl=7 * 86400,
                                 description=f"publish {name}")
        self._last[name] = job
        return job


def run_queued_harvest(spec_path: str, trigger: str = "queue") -> dict[str, Any]:
    """The task a worker runs for a harvest file: the same supervised harvest as the embedded scheduler's."""
    from publishers.harvest.runs import run_harvest

    return run_harvest(spec_path, Settings(), trigger=trigger).model_dump(exclude={"report"})


def work(url: str, name: str | None = None, burst: bool = False) -> bool:
    """Run an RQ worker on the jobs queue until stopped (or, with ``burst``, until the queue is empty)."""
    from rq import Worker

    worker = Worker([queue(url)], connection=_redis(url), name=name)
    return bool(worker.work(burst=burst, with_scheduler=False))
