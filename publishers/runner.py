"""Run one publisher job through every stage: extract, anonymise, validate, publish.

A run holds its job's lock, so two runs of one job never overlap. A run that ends blocked (personal data
the policy does not cover) or quarantined (a table that fails its schema) keeps its reports in the
private area for stewards and publishes nothing. Raw data is deleted from staging when a run ends.

No stage holds the whole table: each hands the next a Parquet file in the run's staging folder
(``raw.parquet`` -> ``anonymized.parquet`` [-> ``merged.parquet``] [-> ``anonymized-valid.parquet``] ->
the release's ``data.parquet``), read in chunks or scanned by DuckDB under ``run_memory_limit``, so a
run's peak memory does not grow with the table (docs/jobs.md, "Speed and memory").
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from anonymize.chunked import anonymize_parquet
from anonymize.report import PrivacyReport
from catalog.database import catalog_database
from catalog.models import ContactPoint, Dataset, Release, Run, TemporalCoverage
from catalog.publish import publish_release, write_json
from catalog.storage import open_storage
from catalog.store import Catalog, open_catalog, utc_now
from opendata.errors import OpendataError, public_summary
from opendata.faults import checkpoint
from opendata.settings import Settings
from publishers.extract import extract
from publishers.incremental import last_cursor, merge_with_previous, remember_cursor
from publishers.job import Job, load_job
from publishers.job_metadata import organization_profile
from publishers.liveness import remove_interrupted_staging
from publishers.ownership import check_ownership
from publishers.private_reports import keep_private
from publishers.progress import Progress, interactive_progress
from publishers.run_request import RunRequest, this_worker
from publishers.unchanged import check_unchanged, current_release
from publishers.validate_staged import validate_staged
from validation import ValidationReport
from validation.release_steps import check_drift, keep_drift_report, remember_source_columns


@dataclass(frozen=True)
class RunResult:
    run: Run
    release: Release | None = None
    privacy: PrivacyReport | None = None
    validation: ValidationReport | None = None
    stages: dict[str, float] = field(default_factory=dict)
    #: The other tables' runs of a family job (an ocds source publishes one dataset per table).
    family: tuple[RunResult, ...] = ()

    @property
    def ok(self) -> bool:
        return self.run.state in ("succeeded", "awaiting-approval", "unchanged") and all(r.ok for r in self.family)


@dataclass(frozen=True)
class ReleaseExtras:
    """What a family run adds to each table's release: files beside the data (the red flags) and the
    source's own findings, kept in the validation report."""

    files: dict[str, object] = field(default_factory=dict)
    source_findings: dict[str, object] | None = None


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


@contextmanager
def job_lock(settings: Settings, name: str, catalog: Catalog | None = None) -> Iterator[None]:
    """Hold the job's lock for a run: a file lock on the embedded default, a PostgreSQL advisory lock when the
    catalog is shared (so runs of one job on two workers never overlap). RunInProgress when it is held."""
    database = catalog.database if catalog is not None else catalog_database(settings)
    busy = f"job '{name}' is already running (here or on another worker); wait for that run to end"
    with database.exclusive(f"job-{name}", settings.paths.private / "locks", busy):
        yield


def register_dataset(catalog: Catalog, job: Job) -> None:
    check_ownership(catalog, job)  # no takeover by another organisation, no second job file for a name
    catalog.upsert_dataset(
        Dataset(
            name=job.name,
            organization=job.organization,
            title=job.title,
            description=job.description,
            license=job.license,
            tags=list(job.tags),
            schedule=job.schedule,
            timezone=job.timezone,
            frequency=job.frequency,
            homepage=job.homepage,
            updated_at=utc_now(),
            contact_point=ContactPoint(**job.contact_point.model_dump()) if job.contact_point else None,
            spatial=list(job.spatial),
            temporal_coverage=TemporalCoverage(
                start=job.temporal_coverage.start.isoformat() if job.temporal_coverage.start else None,
                end=job.temporal_coverage.end.isoformat() if job.temporal_coverage.end else None,
            ) if job.temporal_coverage else None,
            themes=list(job.theme),
            organization_profile=organization_profile(job),
        ),
        organization_title=job.organization_title or job.organization,
    )


def run_job(
    job_path: str | Path,
    settings: Settings,
    catalog: Catalog | None = None,
    *,
    request: RunRequest | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run one job now. Raises JobFileError for a bad job file and RunInProgress for an overlap;
    every other outcome (blocked, quarantined, failed) is recorded and returned. ``request`` carries the
    run id, try number and trigger when a scheduler, a retry loop or a queue worker asks for the run."""
    job = load_job(job_path)
    settings.paths.ensure()
    catalog = catalog or open_catalog(settings)
    if job.source.type == "ocds":
        from publishers.family import run_family

        return run_family(job, settings, catalog, request=request, progress=progress)
    return run_loaded_job(job, settings, catalog, request=request, progress=progress)


def run_loaded_job(
    job: Job,
    settings: Settings,
    catalog: Catalog,
    *,
    request: RunRequest | None = None,
    progress: Progress | None = None,
    extras: ReleaseExtras | None = None,
) -> RunResult:
    """Run one checked job (see :func:`run_job`); ``extras`` are added to the release it publishes."""
    request = request or RunRequest(run_id=new_run_id())
    with job_lock(settings, job.name, catalog):
        for stale in catalog.interrupted_runs(job.name):
            if stale.run_id == request.run_id:
                continue
            catalog.save_run(stale.model_copy(update={
                "state": "interrupted", "ended_at": utc_now(),
                "error": "interrupted: the process ended before the run finished; this run replaced it",
                "public_error": "interrupted: the process ended before the run finished; this run replaced it",
            }))
            shutil.rmtree(settings.paths.staging / job.name / stale.run_id, ignore_errors=True)
        remove_interrupted_staging(settings, catalog, job.name)  # runs a reader found dead before this one
        register_dataset(catalog, job)
        run = Run(run_id=request.run_id, dataset=job.name, job_path=str(job.path), state="running",
                  started_at=utc_now(), attempt=request.attempt, trigger=request.trigger,
                  worker=request.worker or this_worker())
        catalog.save_run(run)
        staging = settings.paths.staging / job.name / run.run_id
        progress = progress or interactive_progress(job.name)
        try:
            return _stages(settings, catalog, job, run, staging, progress, extras or ReleaseExtras())
        except Exception as exc:
            message = str(exc) if isinstance(exc, OpendataError) else f"internal error: {exc!r}"
            current = catalog.run(run.run_id)
            catalog.save_run(current.model_copy(update={"state": "failed", "ended_at": utc_now(),
                                                        "error": job.redact(message),
                                                        "public_error": job.redact(public_summary(exc))}))
            raise
        finally:
            progress.close()
            shutil.rmtree(staging, ignore_errors=True)


def _stages(
    settings: Settings, catalog: Catalog, job: Job, run: Run, staging: Path, progress: Progress,
    extras: ReleaseExtras,
) -> RunResult:
    stages: dict[str, float] = {}
    started = time.perf_counter()
    extracted = extract(job, run.run_id, staging, since=last_cursor(catalog, job), progress=progress)
    stages["extract"] = time.perf_counter() - started
    rows = {"extract": extracted.rows}
    run = run.model_copy(update={"rows_in": extracted.rows, "stages": stages, "rows_by_stage": rows})
    catalog.save_run(run)
    checkpoint("run:after-extract")
    if job.incremental is not None and extracted.since is not None and extracted.rows == 0:
        latest = current_release(catalog, job.name)  # nothing new past the cursor: the latest release stays current
        done = _ended(catalog, run, stages, rows, state="unchanged", rows_out=0,
                      release=latest.number if latest else None, error=None)
        return RunResult(run=done, stages=stages)
    drift = check_drift(settings, catalog, job, extracted.schema.empty_table())
    if drift.blocked:  # the source's columns changed in a way the job does not allow
        folder = keep_drift_report(settings.paths.blocked / job.name / run.run_id, drift)
        done = _ended(catalog, run, stages, rows, state="blocked", error=f"schema drift: {drift.message}",
                      public_error=f"schema drift: {drift.message}",
                      report_folder=keep_private(settings, folder, job.name, run.run_id))
        return RunResult(run=done, stages=stages)

    started = time.perf_counter()
    anonymized = staging / "anonymized.parquet"
    privacy = anonymize_parquet(
        extracted.staging_path, anonymized, job, settings, run.run_id,
        _previous_privacy(settings, catalog, job.name), memory_limit=settings.run_memory_limit,
        on_chunk=lambda rows_done: progress.advance("anonymize", rows_done),
    )
    extracted.staging_path.unlink()  # the raw rows are not needed past this point
    pa.default_memory_pool().release_unused()  # chunks freed by anonymisation, before DuckDB's steps
    stages["anonymize"] = time.perf_counter() - started
    rows["anonymize"] = privacy.rows_out
    if privacy.blocked:
        folder = _keep_reports(settings.paths.blocked / job.name / run.run_id, privacy, None)
        blocking = "; ".join(f.message for f in privacy.findings if f.blocking)
        done = _ended(catalog, run, stages, rows, state="blocked", error=blocking,
                      public_error=public_privacy_summary(privacy),
                      report_folder=keep_private(settings, folder, job.name, run.run_id))
        return RunResult(run=done, privacy=privacy, stages=stages)

    started = time.perf_counter()
    if job.incremental is not None and job.incremental.release == "full":
        anonymized = merge_with_previous(settings, catalog, job, anonymized, staging / "merged.parquet")
    checked = validate_staged(settings, catalog, job, anonymized, run.run_id)
    validation = checked.report
    if extras.source_findings is not None:
        validation = validation.model_copy(update={"source_findings": extras.source_findings})
    stages["validate"] = time.perf_counter() - started
    progress.advance("validate", checked.rows)
    rows["validate"] = checked.rows
    if not validation.valid:
        folder = _keep_reports(settings.paths.quarantine / job.name / run.run_id, privacy, validation)
        shutil.copyfile(checked.path, folder / "anonymized.parquet")
        first = validation.errors[0]
        error = f"{len(validation.errors)} validation error(s); first: {first.type}: {first.message}"
        where = ", ".join(part for part in (
            f"row {first.rowNumber}" if first.rowNumber is not None else "",
            f"field {first.fieldName!r}" if first.fieldName else "") if part)
        public = f"{len(validation.errors)} validation error(s); first: {first.type}{' at ' + where if where else ''}"
        done = _ended(catalog, run, stages, rows, state="quarantined", rows_out=0, error=error, public_error=public,
                      report_folder=keep_private(settings, folder, job.name, run.run_id))
        return RunResult(run=done, privacy=privacy, validation=validation, stages=stages)

    started = time.perf_counter()
    run = run.model_copy(update={"stages": stages})
    if checked.quarantine_folder is not None:  # the invalid rows set aside while the valid ones publish
        run = run.model_copy(update={
            "report_folder": keep_private(settings, checked.quarantine_folder, job.name, run.run_id)})
    remember_source_columns(catalog, job, run.run_id, drift)
    same = check_unchanged(settings, catalog, job, run, checked.path, privacy, extras.files)
    if same.run is not None:  # the latest release already holds this data, schema and policy
        done = _ended(catalog, same.run, stages, rows)
        remember_cursor(catalog, job, extracted.cursor_value, run.run_id)
        return RunResult(run=done, privacy=privacy, validation=validation, stages=stages)
    release, done = publish_release(settings, catalog, job, run, checked.path, privacy, validation, staging,
                                    extra_files=same.files)
    stages["publish"] = time.perf_counter() - started
    progress.advance("publish", release.rows)
    rows["publish"] = release.rows
    done = _ended(catalog, done, stages, rows)  # publish_release set its state and end
    remember_cursor(catalog, job, extracted.cursor_value, run.run_id)
    return RunResult(run=done, release=release, privacy=privacy, validation=validation, stages=stages)


def _ended(catalog: Catalog, run: Run, stages: dict[str, float], rows: dict[str, int], **outcome: Any) -> Run:
    """How a run ended, recorded in one place for every outcome: its state and messages (``outcome``), the
    end time (now, unless already set), the seconds and rows of each stage it ran; saved and returned."""
    ended = run.model_copy(update={"ended_at": run.ended_at or utc_now(), "stages": stages, "rows_by_stage": rows,
                                   **outcome})
    catalog.save_run(ended)
    return ended


def public_privacy_summary(privacy: PrivacyReport) -> str:
    """Why the privacy gate blocked, by finding type, column and entity: no example, no value."""
    entities = {c.name: sorted({d.entity for d in c.detections if d.entity != "FREE_TEXT"}) for c in privacy.columns}
    parts = []
    for finding in privacy.findings:
        if not finding.blocking:
            continue
        found = entities.get(finding.column or "", []) if finding.type == "uncovered-personal-data" else []
        column = f" in column {finding.column!r}" if finding.column else ""
        parts.append(f"{finding.type}{column}{' (' + ', '.join(found) + ')' if found else ''}")
    return "blocked by the privacy gate: " + "; ".join(parts)


def _keep_reports(folder: Path, privacy: PrivacyReport, validation: ValidationReport | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "privacy-report.json", privacy.model_dump(mode="json"))
    if validation is not None:
        write_json(folder / "validation-report.json", validation.model_dump(mode="json"))
    return folder


def _previous_privacy(settings: Settings, catalog: Catalog, name: str) -> PrivacyReport | None:
    releases = catalog.releases(name, published_only=False)
    if not releases:
        return None
    storage = open_storage(settings)
    if not storage.exists(releases[-1], "privacy-report.json"):
        return None
    return PrivacyReport.model_validate_json(storage.read_bytes(releases[-1], "privacy-report.json"))
