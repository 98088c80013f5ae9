"""Incremental pulls: the cursor remembered per job, and a full release rebuilt from the previous one.

The cursor moves only when a run publishes, so a failed or blocked run pulls the same rows again. A job
that declares ``release: full`` publishes the previous release's rows, less those whose primary key
comes again in this pull, plus this pull's rows (anonymised with the same keyed pseudonyms, so keys and
pseudonyms line up across releases). ``release: increment`` publishes this pull's rows only.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from catalog.storage import open_storage
from catalog.store import Catalog, utc_now
from catalog.typed_table import DUCKDB_TYPES, quote_identifier
from opendata.errors import JobFileError
from opendata.settings import Settings
from opendata.sql_text import quote_literal
from publishers.job import Job


def last_cursor(catalog: Catalog, job: Job) -> str | None:
    """The highest cursor value the last publishing run saw; None on the first run or a changed cursor."""
    if job.incremental is None:
        return None
    with catalog.transaction() as db:
        row = db.execute("SELECT cursor_column, value FROM job_cursors WHERE dataset = ?", (job.name,)).fetchone()
    if row is None or row[0] != job.incremental.cursor:
        return None
    return None if row[1] is None else str(row[1])


def remember_cursor(catalog: Catalog, job: Job, value: str | None, run_id: str) -> None:
    if job.incremental is None or value is None:
        return
    with catalog.transaction() as db:
        db.execute(
            "INSERT INTO job_cursors(dataset, cursor_column, value, run_id, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(dataset) DO UPDATE SET cursor_column = excluded.cursor_column, value = excluded.value, "
            "run_id = excluded.run_id, updated_at = excluded.updated_at",
            (job.name, job.incremental.cursor, value, run_id, utc_now()),
        )


def primary_key(job: Job) -> list[str]:
    if job.incremental is not None and job.incremental.primary_key:
        return list(job.incremental.primary_key)
    key = job.table_schema.get("primaryKey")
    return [key] if isinstance(key, str) else list(key or [])


def _as_text(field: dict[str, Any], zoned: bool = True) -> str:
    """A typed release column back to the text the validation stage reads. An instant (TIMESTAMPTZ) keeps
    its meaning as UTC with ``Z``; a naive timestamp of a release published before instants stays naive."""
    column = quote_identifier(field["name"])
    kind = field.get("type", "any")
    if kind == "datetime" and zoned:
        return f"strftime(timezone('UTC', {column}), '%Y-%m-%dT%H:%M:%S') || 'Z'"
    if kind == "datetime":
        return f"strftime({column}, '%Y-%m-%dT%H:%M:%S')"
    if kind == "date":
        return f"strftime({column}, '%Y-%m-%d')"
    if kind == "boolean":
        trues = field.get("trueValues", ["true"])[0].replace("'", "''")
        falses = field.get("falseValues", ["false"])[0].replace("'", "''")
        return f"CASE WHEN {column} THEN '{trues}' WHEN NOT {column} THEN '{falses}' END"
    return f"CAST({column} AS VARCHAR)"


def merge_with_previous(
    settings: Settings, catalog: Catalog, job: Job, new_rows: Path, target: Path
) -> Path:
    """Previous release's rows (less those this pull replaces) plus this pull's, deduplicated on the key:
    DuckDB joins the staged file ``new_rows`` with the previous release's Parquet into ``target`` (spilling
    to the staging folder past ``run_memory_limit``). Returns the file to validate and publish."""
    previous = [r for r in catalog.releases(job.name, published_only=False) if r.state != "rejected"]
    if not previous:
        return new_rows
    release = previous[-1]
    storage = open_storage(settings)
    data = storage.duckdb_path(release, "data.parquet")  # a local path, or s3:// read through httpfs
    key = primary_key(job)
    columns = pq.read_schema(new_rows).names
    fields = {f["name"]: f for f in release.table_schema.get("fields", [])}
    missing = [k for k in key if k not in columns or k not in fields]
    if not key or missing:
        raise JobFileError(job.path, [
            "incremental: a full release needs a primary key that is published as it is: set "
            "incremental.primary_key or the Table Schema's primaryKey"
            + (f" (not in the anonymised table: {', '.join(missing)})" if missing else "")
        ])
    typed = {k: DUCKDB_TYPES.get(fields[k].get("type", "string"), "VARCHAR") for k in key}
    match = " AND ".join(
        f"TRY_CAST(n.{quote_identifier(k)} AS {typed[k]}) = p.{quote_identifier(k)}" for k in key
    )
    new_text = ", ".join(f"CAST({quote_identifier(c)} AS VARCHAR) AS {quote_identifier(c)}" for c in columns)
    spill = Path(tempfile.mkdtemp(prefix=".merge-spill-", dir=target.parent))
    con = duckdb.connect(config={"threads": 2, "memory_limit": settings.run_memory_limit,
                                 "temp_directory": str(spill)})
    try:
        for statement in storage.prepare_duckdb():
            con.execute(statement)
        con.execute(f"SET TimeZone={quote_literal(job.timezone)}")  # naive new key values, as publish reads them
        zoned = _zoned_columns(con, data)
        selects = [
            f"{_as_text(fields[c], c in zoned)} AS {quote_identifier(c)}" if c in fields
            else f"NULL::VARCHAR AS {quote_identifier(c)}"
            for c in columns
        ]
        con.execute(
            f"COPY (SELECT {', '.join(selects)} FROM read_parquet({quote_literal(data)}) p "
            f"WHERE NOT EXISTS (SELECT 1 FROM read_parquet({_literal(new_rows)}) n WHERE {match}) "
            f"UNION ALL SELECT {new_text} FROM read_parquet({_literal(new_rows)})) "
            f"TO {_literal(target)} (FORMAT parquet, COMPRESSION zstd)"
        )
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    return target


def _zoned_columns(con: duckdb.DuckDBPyConnection, data: str) -> set[str]:
    """The previous release's TIMESTAMPTZ columns, read from its Parquet footer."""
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({quote_literal(data)})").fetchall()
    return {str(row[0]) for row in described if str(row[1]) == "TIMESTAMP WITH TIME ZONE"}


def _literal(path: Path) -> str:
    return quote_literal(path.as_posix())
