"""A staged table written as numbered Parquet part files in one folder, so that writing it holds bounded memory.

A Parquet writer keeps the metadata of every row group it wrote (some 0.9 KB a column chunk, statistics
included) until it closes the file and writes the footer: one file of a million releases' rows held some
13 MB of it at the end. :class:`PartWriter` starts a new part every :data:`PART_ROW_GROUPS` row groups, so the
metadata held is one part's whatever the number of rows. The folder reads as one table: ``part-00000.parquet``,
``part-00001.parquet``, ... in order (``pq.read_table(folder)``, DuckDB's ``read_parquet('folder/*.parquet')``),
and :func:`read_batches` gives the batches one file would have given (``iter_batches``: every batch
``batch_size`` rows but the last, across the parts' boundaries), so what is published from them is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

#: Row groups in one part file; a row group is a flush of about 5,000 rows (``procurement.prepare.CHUNK``).
PART_ROW_GROUPS = 20


class PartWriter:
    """Writes record batches (one row group each) to ``folder``'s parts, a new part every ``row_groups``."""

    def __init__(self, folder: Path, schema: pa.Schema, row_groups: int = PART_ROW_GROUPS,
                 compression: str = "zstd") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.schema, self.row_groups, self.compression = folder, schema, row_groups, compression
        self.parts = 0
        self._writer: pq.ParquetWriter | None = None
        self._written = 0  # row groups in the open part

    def write_batch(self, batch: pa.RecordBatch) -> None:
        if self._writer is not None and self._written >= self.row_groups:
            self._writer.close()
            self._writer = None
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.folder / part_name(self.parts), self.schema,
                                            compression=self.compression)
            self.parts += 1
            self._written = 0
        self._writer.write_batch(batch)
        self._written += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def part_name(number: int) -> str:
    return f"part-{number:05d}.parquet"


def part_paths(folder: Path) -> list[Path]:
    """The parts of a staged table, in order (their names sort as their numbers)."""
    return sorted(folder.glob("part-*.parquet"))


def read_schema(folder: Path) -> pa.Schema:
    return pq.read_schema(part_paths(folder)[0])


def read_batches(folder: Path, batch_size: int) -> Iterator[pa.RecordBatch]:
    """The table's rows in order, in batches of ``batch_size`` rows (the last one shorter), as one file's
    ``iter_batches(batch_size)`` gives them; one part open at a time."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    for path in part_paths(folder):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
            if not pending and batch.num_rows == batch_size:
                yield batch
                continue
            pending.append(batch)
            rows += batch.num_rows
            while rows >= batch_size:
                table = pa.Table.from_batches(pending)
                yield from table.slice(0, batch_size).combine_chunks().to_batches()
                rest = table.slice(batch_size)
                pending, rows = rest.to_batches(), rest.num_rows
    if rows:
        yield from pa.Table.from_batches(pending).combine_chunks().to_batches()
