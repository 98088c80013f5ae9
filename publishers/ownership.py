"""Who may publish a dataset: its organisation cannot change, nor two job files share its name, silently.

A job file whose ``organization`` differs from the dataset's is refused unless it names the current owner
in ``transfer_from``; then the transfer is recorded in the catalog (``dataset_transfers``: dataset, from,
to, job file, time) before the run goes on. A run whose job file differs from the previous run's, while
that file still exists and declares the same name, is refused: one of them must be renamed.
"""

from __future__ import annotations

from pathlib import Path

from catalog.store import Catalog
from opendata.errors import CatalogError, JobFileError
from publishers.job import Job, load_job


def check_ownership(catalog: Catalog, job: Job) -> None:
    """Refuse a job that would take over another organisation's dataset, or a second job file for a name.

    A dataset's organisation changes only when the job file says so (``transfer_from: <current
    organisation>``); the transfer is recorded in the catalog (``Catalog.transfers``). A run whose job file
    differs from the previous run's, while that file still exists and declares the same name, is refused."""
    try:
        current = catalog.dataset(job.name, published_only=False)
    except CatalogError:
        return
    previous = next((r.job_path for r in catalog.runs(job.name, limit=1)), None)
    if previous and Path(previous).resolve() != job.path.resolve() and Path(previous).is_file():
        try:
            other: Job | None = load_job(previous)
        except JobFileError:
            other = None
        if other is not None and other.name == job.name:
            raise JobFileError(job.path, [
                f"two job files declare dataset '{job.name}': {previous} and {job.path}; give one of them "
                "another name (or delete the one that is no longer used)"
            ])
    if current.organization != job.organization:
        if job.transfer_from != current.organization:
            raise JobFileError(job.path, [
                f"dataset '{job.name}' belongs to organisation '{current.organization}', not "
                f"'{job.organization}': a job file cannot take it over. If it moves, add "
                f"'transfer_from: {current.organization}' to this job file (the transfer is recorded), or "
                "rename this dataset"
            ])
        catalog.record_transfer(job.name, current.organization, job.organization, str(job.path))
