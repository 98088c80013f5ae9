"""The validation step of a run over the staged anonymised Parquet file, never loaded whole.

``validation.check_parquet`` scans the file with DuckDB (foreign keys resolved against the latest published
release of each referenced dataset, as ``validation.release_steps.validate_release`` does for a table).
With ``on_error: quarantine_rows`` the file is split chunk by chunk: the valid rows into a new staged file
that is published, the invalid ones (with frictionless's ``rowNumber``) into the private quarantine folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from catalog.publish import write_json
from catalog.store import Catalog
from opendata.settings import Settings
from publishers.job import Job
from validation import ValidationReport, check_parquet
from validation.quarantine import ERRORS_FILE, ROWS_FILE, can_split
from validation.release_steps import published_references

CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class StagedValidation:
    report: ValidationReport
    path: Path  # what may be published: the whole file, or a file of its valid rows
    rows: int
    quarantined_rows: int = 0
    quarantine_folder: Path | None = None


def validate_staged(settings: Settings, catalog: Catalog, job: Job, path: Path, run_id: str) -> StagedValidation:
    references = published_references(settings, catalog, job)
    splitting = job.validation.on_error == "quarantine_rows"
    # Row errors are kept only to split the file; otherwise the report alone keeps memory bounded.
    check = check_parquet(path, job.table_schema, references=references, memory_limit=settings.run_memory_limit,
                          keep_row_errors=splitting)
    rows = pq.ParquetFile(path).metadata.num_rows
    if check.report.valid or not splitting or not can_split(check):
        return StagedValidation(check.report, path, rows)
    folder = settings.paths.quarantine / job.name / run_id
    folder.mkdir(parents=True, exist_ok=True)
    valid = path.with_name(path.stem + "-valid.parquet")
    invalid_rows = split_rows(path, check.invalid_rows, valid, folder / ROWS_FILE)
    (folder / ERRORS_FILE).write_text(
        json.dumps(check.row_errors.to_pylist(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    write_json(folder / "validation-report.json", check.report.model_dump(mode="json"))
    kept = check_parquet(valid, job.table_schema, references=references, memory_limit=settings.run_memory_limit,
                         keep_row_errors=False)
    stats = {**kept.report.stats, "quarantinedRows": invalid_rows,
             "quarantinedErrors": check.report.stats["errors"]}
    return StagedValidation(kept.report.model_copy(update={"stats": stats}), valid, rows - invalid_rows,
                            invalid_rows, folder)


def split_rows(source: Path, row_numbers: list[int], valid: Path, invalid: Path, chunk_rows: int = CHUNK_ROWS) -> int:
    """Copy ``source`` into ``valid`` and ``invalid`` by frictionless row numbers (table row n - 2: the header
    is row 1), chunk by chunk; invalid rows lead with their ``rowNumber``. Returns the invalid rows written."""
    numbers = np.asarray(sorted(set(row_numbers)), dtype=np.int64) - 2
    parquet = pq.ParquetFile(source)
    schema = parquet.schema_arrow
    with pq.ParquetWriter(valid, schema, compression="zstd") as good, \
            pq.ParquetWriter(invalid, schema.insert(0, pa.field("rowNumber", pa.int64())), compression="zstd") as bad:
        start = 0
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            chunk = pa.Table.from_batches([batch])
            inside = numbers[(numbers >= start) & (numbers < start + chunk.num_rows)] - start
            mask = np.zeros(chunk.num_rows, dtype=bool)
            mask[inside] = True
            flags = pa.array(mask)
            good.write_table(chunk.filter(pc.invert(flags)))
            bad.write_table(chunk.filter(flags).add_column(0, "rowNumber", pa.array(inside + start + 2, pa.int64())))
            start += chunk.num_rows
    return len(numbers)
