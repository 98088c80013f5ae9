"""Extract stage: pull the source into private staging."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from opendata.errors import SourceError
from publishers.extracted import Extracted
from publishers.job import Job
from publishers.sources import connector_for


def extract(job: Job, run_id: str, staging: Path) -> Extracted:
    """Read every row of the job's source into ``staging/raw.parquet`` and memory."""
    staging.mkdir(parents=True, exist_ok=True)
    batches = list(connector_for(job).batches(job))
    if not batches:
        raise SourceError(f"source of job '{job.name}' has no columns; check source.query or the file header")
    table = pa.Table.from_batches(batches)
    raw_path = staging / "raw.parquet"
    pq.write_table(table, raw_path, compression="zstd")
    return Extracted(dataset=job.name, run_id=run_id, table=table, staging_path=raw_path)
