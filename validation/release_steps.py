"""The validation stage's two steps in a publisher run, kept here so the runner calls each in a line.

``check_drift`` compares the extracted source's columns with the previous release's and says whether the
run may go on; ``validate_release`` validates the anonymised table (foreign keys resolved against the
latest published release of each referenced dataset) and, with ``on_error: quarantine_rows``, splits the
invalid rows off into the private quarantine folder and validates what stays.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from catalog.publish import write_json
from catalog.storage import open_storage
from catalog.store import Catalog
from opendata.errors import CatalogError
from opendata.settings import Settings
from publishers.job import Job
from validation.drift import SchemaDrift, compare, read_source_columns, source_columns
from validation.engine import Reference
from validation.quarantine import can_split, keep_invalid_rows, split_rows
from validation.report import ValidationReport
from validation.table_check import check_table


@dataclass(frozen=True)
class ReleaseValidation:
    report: ValidationReport
    table: pa.Table  # what may be published: all rows, or the valid ones
    quarantined_rows: int = 0
    quarantine_folder: Path | None = None




def _record(settings: Settings, dataset: str, run_id: str) -> Path:
    """Where installations before the shared catalog kept a run's source columns (still read, never written)."""
    return settings.paths.private / "source-columns" / dataset / f"{run_id}.json"


def _source_columns(settings: Settings, catalog: Catalog, dataset: str, run_id: str) -> dict[str, str] | None:
    with catalog.database.connect() as db:
        row = db.execute("SELECT columns FROM source_columns WHERE dataset = ? AND run_id = ?",
                         (dataset, run_id)).fetchone()
    if row is not None:
        found: dict[str, str] = json.loads(row[0])
        return found
    return read_source_columns(_record(settings, dataset, run_id))


def check_drift(settings: Settings, catalog: Catalog, job: Job, source: pa.Table) -> SchemaDrift:
    releases = catalog.releases(job.name, published_only=False)
    previous = _source_columns(settings, catalog, job.name, releases[-1].run_id) if releases else None
    return compare(previous, source_columns(source, job.table_schema), list(job.validation.allow_schema_changes),
                   set(job.privacy.columns), releases[-1].number if releases else None)


def keep_drift_report(folder: Path, drift: SchemaDrift) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "schema-drift.json", drift.model_dump(mode="json"))
    return folder


def remember_source_columns(catalog: Catalog, job: Job, run_id: str, drift: SchemaDrift) -> None:
    """Kept in the catalog (never served) under the run id; a release names its run, so the next run finds it,
    on whichever worker it runs."""
    with catalog.transaction() as db:
        db.execute(
            "INSERT INTO source_columns(dataset, run_id, columns, changes) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(dataset, run_id) DO UPDATE SET columns = excluded.columns, changes = excluded.changes",
            (job.name, run_id, json.dumps(drift.columns), json.dumps([c.model_dump() for c in drift.changes])),
        )


def published_references(settings: Settings, catalog: Catalog, job: Job) -> dict[str, Reference]:
    """Each dataset a foreign key names, as the typed data of its latest published release."""
    references: dict[str, Reference] = {}
    for key in job.table_schema.get("foreignKeys") or []:
        name = (key.get("reference") or {}).get("resource") or ""
        if not name or name in references:
            continue
        try:
            release = catalog.release(name)
        except CatalogError:
            continue  # the validator reports the missing reference as a schema error
        references[name] = Reference(open_storage(settings).read_table(release, "data.parquet"))
    return references


def validate_release(settings: Settings, catalog: Catalog, job: Job, table: pa.Table,
                     run_id: str) -> ReleaseValidation:
    references = published_references(settings, catalog, job)
    check = check_table(table, job.table_schema, references=references)
    if check.report.valid or job.validation.on_error != "quarantine_rows" or not can_split(check):
        return ReleaseValidation(check.report, table)
    split = split_rows(table, check)
    folder = settings.paths.quarantine / job.name / run_id
    keep_invalid_rows(folder, split)
    write_json(folder / "validation-report.json", check.report.model_dump(mode="json"))
    kept = check_table(split.valid, job.table_schema, references=references).report
    stats = {**kept.stats, "quarantinedRows": split.invalid.num_rows, "quarantinedErrors": check.report.stats["errors"]}
    return ReleaseValidation(kept.model_copy(update={"stats": stats}), split.valid, split.invalid.num_rows, folder)
