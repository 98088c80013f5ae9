"""The extract stage's result: the raw table, held in private staging."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa


@dataclass(frozen=True)
class Extracted:
    """What a source yielded, as text columns (nulls kept), before any anonymisation.

    Every column is ``pa.string()``: typing happens once, at publish time, from the Table Schema, so the
    privacy and validation stages see exactly what the agency sent. ``staging_path`` is the Parquet file
    the source was streamed into, chunk by chunk; ``table`` reads it back (memory-mapped).
    """

    dataset: str
    run_id: str
    table: pa.Table
    staging_path: Path
    cursor_value: str | None = None
    since: str | None = None

    @property
    def rows(self) -> int:
        return self.table.num_rows

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)
