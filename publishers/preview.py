"""The first rows of any job's source, and a Table Schema inferred from them.

``opendata source preview``, ``opendata schema infer JOB.yaml`` and the harvesters read a source the way
a run does (the same connector, downloads in a private staging folder removed afterwards) but stop after
``rows`` rows.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa

from opendata.settings import Settings
from publishers.job import Job
from publishers.sources import PullContext, connector_for, pulling
from validation.infer import starting_schema
from validation.table_check import table_cells

PREVIEW_ROWS = 1000


def preview(job: Job, settings: Settings, rows: int = PREVIEW_ROWS) -> pa.Table:
    """Up to ``rows`` rows of the job's source as text columns (the connector stops being read there)."""
    settings.paths.ensure()
    staging_root = settings.paths.staging
    staging_root.mkdir(parents=True, exist_ok=True)
    batches: list[pa.RecordBatch] = []
    read = 0
    with tempfile.TemporaryDirectory(dir=staging_root, prefix="preview-") as tmp:
        with pulling(PullContext(staging=Path(tmp))):
            stream = connector_for(job).batches(job)
            try:
                for batch in stream:
                    batches.append(batch.slice(0, rows - read))
                    read += min(batch.num_rows, rows - read)
                    if read >= rows:
                        break
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
    if not batches:
        return pa.table({})
    return pa.Table.from_batches(batches)


def infer_from_table(table: pa.Table, *, enum_max: int = 10) -> dict[str, Any]:
    """A starting Table Schema for the text table (types as frictionless infers them). A null (a JSON
    ``null``, a database NULL) counts as a missing value, as an empty CSV cell does."""
    text = pa.table({name: pa.compute.fill_null(pa.compute.cast(table.column(name), pa.string()), "")
                     for name in table.column_names})
    return starting_schema(text.column_names, table_cells(text), enum_max=enum_max)
