"""Supervised runs: each try in a child process with a time limit, retried with backoff when transient.

A try that raises a transient error (a source that timed out or refused the connection) is retried after
``backoff_seconds``, doubling up to ``max_backoff_seconds``, until ``retries.attempts`` tries are spent.
Terminal outcomes (a bad job file or schema, a privacy block, a quarantined table) are never retried. A
try that outlives the job's ``timeout`` is killed with its whole process group and recorded as failed;
a killed run holds no lock (the kernel drops it with the process) and its staging is removed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from catalog.models import Run
from catalog.store import Catalog, open_catalog, utc_now
from opendata.errors import CatalogError
from opendata.settings import Settings
from publishers import child
from publishers.job import Job, load_job
from publishers.run_request import RunRequest


@dataclass(frozen=True)
class Outcome:
    """What a supervised run came to: its last try's run record, or why there was none."""

    job: str
    run: Run | None
    attempts: int
    skipped: str | None = None
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.run is not None and self.run.state in ("succeeded", "awaiting-approval", "unchanged")


def settings_environment(settings: Settings) -> dict[str, str]:
    """The settings as OPENDATA_* variables, so a child process reads exactly these."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"OPENDATA_{name.upper()}"] = json.dumps(value) if isinstance(value, list | dict) else str(value)
    env["OPENDATA_HOME"] = str(settings.paths.root)
    return env


def backoff(job: Job, attempt: int) -> float:
    """Seconds to wait after try ``attempt`` failed transiently."""
    wait = job.retries.backoff_seconds * (2 ** (attempt - 1))
    return float(min(wait, job.retries.max_backoff_seconds))


def run_once(job: Job, settings: Settings, request: RunRequest, timeout: float) -> tuple[int, bool]:
    """One try in a child process; returns its exit code and whether it was killed for its time limit."""
    command = [sys.executable, "-m", "publishers.child", str(job.path), "--run-id", request.run_id,
               "--attempt", str(request.attempt), "--trigger", request.trigger]
    if request.worker:
        command += ["--worker", request.worker]
    process = subprocess.Popen(command, env=settings_environment(settings), start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, errors = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return -signal.SIGKILL, True
    if process.returncode not in (0, 1, 2, 3, 4) and errors:
        sys.stderr.write(job.redact(errors.decode("utf-8", "replace"))[-2000:])
    return process.returncode, False


def _close_killed(catalog: Catalog, settings: Settings, job: Job, request: RunRequest, started_at: str,
                  why: str) -> None:
    try:
        run: Run | None = catalog.run(request.run_id)
    except CatalogError:
        run = None  # killed before it recorded itself (a slow start on a loaded machine)
    if run is None:
        catalog.save_run(Run(run_id=request.run_id, dataset=job.name, job_path=str(job.path), state="failed",
                             started_at=started_at, ended_at=utc_now(), error=why, public_error=why,
                             attempt=request.attempt, trigger=request.trigger, worker=request.worker))
    elif run.state in ("queued", "running", "interrupted"):  # a reader may have seen it die before this
        catalog.save_run(run.model_copy(update={"state": "failed", "ended_at": utc_now(), "error": why,
                                                "public_error": why}))
    shutil.rmtree(settings.paths.staging / job.name / request.run_id, ignore_errors=True)


def run_with_retries(
    job_path: str | Path,
    settings: Settings,
    *,
    trigger: str = "manual",
    worker: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Run a job in supervised tries until one ends for good. Raises JobFileError for a bad job file."""
    job = load_job(job_path)
    settings.paths.ensure()
    catalog = open_catalog(settings)
    timeout = job.timeout or settings.job_timeout_seconds
    last: Run | None = None
    for attempt in range(1, job.retries.attempts + 1):
        request = RunRequest(attempt=attempt, trigger=trigger, worker=worker)
        started_at = utc_now()
        code, timed_out = run_once(job, settings, request, timeout)
        if timed_out:
            why = (f"timed out after {timeout:g}s and was killed; raise the job's `timeout` if it needs "
                   "longer, or look at why its source hangs")
            _close_killed(catalog, settings, job, request, started_at, why)
            return Outcome(job.name, catalog.run(request.run_id), attempt, timed_out=True)
        if code == child.EXIT_ALREADY_RUNNING:
            return Outcome(job.name, last, attempt, skipped=f"job '{job.name}' is already running")
        if code not in (child.EXIT_DONE, child.EXIT_RUN_FAILED, child.EXIT_TERMINAL, child.EXIT_TRANSIENT):
            _close_killed(catalog, settings, job, request, started_at,
                          f"the run's process ended with code {code} before the run finished")
        try:
            last = catalog.run(request.run_id)
        except CatalogError:
            last = None
        if code != child.EXIT_TRANSIENT or attempt == job.retries.attempts:
            break
        sleep(backoff(job, attempt))
    return Outcome(job.name, last, job.retries.attempts if last is None else last.attempt)
