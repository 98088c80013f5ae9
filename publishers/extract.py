"""Extract stage: stream the source into private staging, chunk by chunk.

Each record batch a connector yields is appended to ``staging/raw.parquet`` as it arrives, so the
source is never held whole in memory while it is read (nor after it: the later stages read the file in
chunks). An incremental job keeps only rows past its cursor (the connector filters itself when it can,
e.g. SQL) and reports the highest cursor value seen.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from catalog.typed_table import quote_identifier
from opendata.errors import SourceError
from publishers.extracted import Extracted
from publishers.job import Job
from publishers.progress import NoProgress, Progress
from publishers.sources import PullContext, connector_for, pulling


def extract(
    job: Job, run_id: str, staging: Path, *, since: str | None = None, progress: Progress | None = None
) -> Extracted:
    """Stream every row of the job's source (past ``since`` when incremental) into ``staging/raw.parquet``;
    memory stays bounded by one chunk, and the stages after this one read the file in chunks too."""
    raw_path, cursor_value = stream_to_staging(job, staging, since=since, progress=progress)
    raw = pq.ParquetFile(raw_path)
    return Extracted(dataset=job.name, run_id=run_id, staging_path=raw_path, rows=raw.metadata.num_rows,
                     schema=raw.schema_arrow, cursor_value=cursor_value, since=since)


def stream_to_staging(
    job: Job, staging: Path, *, since: str | None = None, progress: Progress | None = None
) -> tuple[Path, str | None]:
    """The streaming half of :func:`extract`: memory bounded by one chunk. Returns the staged file and
    the highest cursor value seen (incremental jobs)."""
    progress = progress or NoProgress()
    staging.mkdir(parents=True, exist_ok=True)
    raw_path = staging / "raw.parquet"
    connector = connector_for(job)
    cursor = job.incremental.cursor if job.incremental is not None else None
    writer: pq.ParquetWriter | None = None
    try:
        with pulling(PullContext(staging=staging, cursor=cursor, since=since)):
            for batch in connector.batches(job):
                if writer is None:
                    writer = pq.ParquetWriter(raw_path, batch.schema, compression="zstd")
                elif batch.schema != writer.schema:
                    raise SourceError(f"source of job '{job.name}' changed its columns while being read")
                writer.write_batch(batch)
                progress.advance("extract", batch.num_rows)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise SourceError(f"source of job '{job.name}' has no rows (an empty or header-only file, or a query that "
                          "returned nothing): nothing was published")

    cursor_value = None
    if cursor is not None:
        names = pq.read_schema(raw_path).names
        if cursor not in names:
            raise SourceError(f"incremental.cursor '{cursor}' is not a column of the source; it has {', '.join(names)}")
        if since is not None and not getattr(connector, "pushes_down_cursor", False):
            _keep_past(raw_path, cursor, since)
        cursor_value = highest(raw_path, cursor, since)
    return raw_path, cursor_value


def _numeric(con: duckdb.DuckDBPyConnection, path: Path, column: str) -> bool:
    row = con.execute(
        f"SELECT count({column}) = count(TRY_CAST({column} AS DOUBLE)) FROM read_parquet(?)", [str(path)]
    ).fetchone()
    return bool(row and row[0])


def _keep_past(path: Path, cursor: str, since: str) -> None:
    column = quote_identifier(cursor)
    con = duckdb.connect()
    try:
        numeric = _numeric(con, path, column) and _is_number(since)
        test = f"TRY_CAST({column} AS DOUBLE) > CAST(? AS DOUBLE)" if numeric else f"{column} > ?"
        kept = path.with_name("raw-past-cursor.parquet")
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{path.as_posix()}') WHERE {test}) TO '{kept.as_posix()}' "
            "(FORMAT parquet, COMPRESSION zstd)", [since]
        )
    finally:
        con.close()
    kept.replace(path)


def highest(path: Path, cursor: str, since: str | None) -> str | None:
    """The largest cursor value in the staged rows (numeric when every value is a number), or ``since``."""
    column = quote_identifier(cursor)
    con = duckdb.connect()
    try:
        pick = f"arg_max({column}, TRY_CAST({column} AS DOUBLE))" if _numeric(con, path, column) else f"max({column})"
        row = con.execute(f"SELECT {pick} FROM read_parquet(?)", [str(path)]).fetchone()
    finally:
        con.close()
    found = row[0] if row else None
    return since if found is None else str(found)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
