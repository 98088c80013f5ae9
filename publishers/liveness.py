"""Runs whose process died: a run recorded ``running`` whose job lock nobody holds is ``interrupted``.

A run holds its job's lock (:func:`publishers.runner.job_lock`) from before it records ``running`` until
after it records how it ended, and the lock dies with its holder: on the embedded default a ``flock`` on
``PRIVATE/locks/job-NAME.lock``, which the kernel drops when the process ends (``kill -9`` included); with
a PostgreSQL catalog a session advisory lock, which the server drops when the holder's connection ends, on
whichever machine the worker ran (a machine that vanishes is noticed when its TCP connection times out).
So a ``running`` record with a free lock belongs to a process that is gone, and every reader of the run
history (``opendata runs``, ``GET /api/v1/runs``, the ``/runs`` page) can tell at once, without a
heartbeat and without waiting for the next run of the job.

The probe never takes the lock where it can help it: PostgreSQL's ``pg_locks`` view tells who holds an
advisory lock. ``flock`` has no such query, so on SQLite the probe takes the lock with ``LOCK_NB`` and
drops it at once (microseconds, during which a run starting would be told the job is busy). Then the run
is read again: a run that ended between the first read and the probe has recorded its end, and is left
alone. The change is written (``interrupted``, with why) when the catalog takes writes; a reader that
cannot write still shows the run as interrupted.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
from pathlib import Path

from catalog.models import Run
from catalog.store import Catalog
from opendata.errors import CatalogError
from opendata.settings import Settings

log = logging.getLogger(__name__)

WHY = "interrupted: the process running it ended before the run finished (killed, or its machine stopped)"

# Who holds a session advisory lock taken with pg_try_advisory_lock(bigint): its key's high and low halves.
_HELD_SQL = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
    "AND classid = ((hashtextextended(?, 0) >> 32) & 4294967295)::oid "
    "AND objid = (hashtextextended(?, 0) & 4294967295)::oid"
)


def lock_key(dataset: str) -> str:
    """The lock a run of ``dataset`` holds (the runner's ``job_lock``)."""
    return f"job-{dataset}"


def _flock_held(path: Path) -> bool:
    try:
        handle = open(path, "a")  # noqa: SIM115 - closed below; "a" keeps the holder's pid in the file
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def lock_held(settings: Settings, catalog: Catalog, dataset: str) -> bool:
    """Whether some process (on any machine, with PostgreSQL) holds the job lock of ``dataset``."""
    key = lock_key(dataset)
    if catalog.database.dialect == "postgresql":
        with catalog.database.connect() as db:
            name = f"opendata:{key}"
            return int(db.execute(_HELD_SQL, (name, name)).fetchone()[0]) > 0
    path = settings.paths.private / "locks" / f"{key}.lock"
    if not path.parent.exists():
        return False
    return _flock_held(path)


def find_interrupted(settings: Settings, catalog: Catalog) -> set[str]:
    """Record every dead ``running`` run as ``interrupted``; the run ids found (written or not)."""
    found: set[str] = set()
    running, _ = catalog.runs_page(state="running", limit=1000, count=False)  # every page of runs asks this
    for run in running:
        if lock_held(settings, catalog, run.dataset):
            continue
        try:
            again = catalog.run(run.run_id)
        except CatalogError:
            continue
        if (again.state, again.attempt, again.started_at) != ("running", run.attempt, run.started_at):
            continue  # it ended (or its next try started) between the two reads
        found.add(run.run_id)
        try:
            catalog.mark_interrupted(again, WHY)
        except Exception as exc:  # a read-only catalog role: show it interrupted all the same
            log.warning("could not record run %s as interrupted: %s", run.run_id, type(exc).__name__)
    return found


def as_shown(runs: list[Run], interrupted: set[str]) -> list[Run]:
    """``runs`` with the dead ones shown ``interrupted`` (when the catalog could not record it)."""
    return [r.model_copy(update={"state": "interrupted", "error": WHY, "public_error": WHY})
            if r.run_id in interrupted and r.state == "running" else r for r in runs]



def remove_interrupted_staging(settings: Settings, catalog: Catalog, dataset: str) -> None:
    """Delete the staging left by the job's interrupted runs (called by a run holding the job's lock, so none
    of them is alive; a reader that found them dead could not delete what is on the worker's disk)."""
    found, _ = catalog.runs_page(dataset, "interrupted", limit=100)
    for run in found:
        shutil.rmtree(settings.paths.staging / dataset / run.run_id, ignore_errors=True)
