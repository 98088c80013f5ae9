"""The extract stage's result: the raw table, held in private staging as Parquet."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


@dataclass(frozen=True)
class Extracted:
    """What a source yielded, as text columns (nulls kept), before any anonymisation.

    Every column is ``pa.string()``: typing happens once, at publish time, from the Table Schema, so the
    privacy and validation stages see exactly what the agency sent. ``staging_path`` is the Parquet file
    the source was streamed into, chunk by chunk; the stages after extraction read it in chunks (or let
    DuckDB scan it), so nothing holds the whole table. ``table`` reads it whole, for callers that want that.
    """

    dataset: str
    run_id: str
    staging_path: Path
    rows: int
    schema: pa.Schema
    cursor_value: str | None = None
    since: str | None = None

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    @property
    def table(self) -> pa.Table:
        return pq.read_table(self.staging_path, memory_map=True)
