"""R024's and R058's tally of every process (the difference between the two lowest bids, the winner, the
second), written to a Parquet file as the run goes rather than held in memory: the family run's memory then
does not grow with its processes. Only the differences come back, as one Arrow column (8 bytes a process),
for the quartiles; the flags are read back from the file in the order they were written.

For a run whose processes are unique per ``ocid`` (the merge gives one compiled release per ``ocid``), so an
append-only file holds what the in-memory map would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROWS = 65_536
SCHEMA = pa.schema([("ocid", pa.string()), ("difference", pa.float64()), ("winner", pa.string()),
                    ("second", pa.string())])


class SecondLowestSpill:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._pending: tuple[list[str], list[float], list[str], list[str]] = ([], [], [], [])
        self._writer: pq.ParquetWriter | None = None
        self._closed = False

    def add(self, ocid: str, difference: float, winner: str, second: str) -> None:
        for column, value in zip(self._pending, (ocid, difference, winner, second), strict=True):
            column.append(value)  # type: ignore[attr-defined]
        self.rows += 1
        if len(self._pending[0]) >= ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, SCHEMA, compression="zstd")
        self._writer.write_batch(pa.record_batch([pa.array(c) for c in self._pending], schema=SCHEMA))
        self._pending = ([], [], [], [])

    def close(self) -> None:
        if self._closed:
            return
        if self._writer is None or self._pending[0]:
            self._flush()
        assert self._writer is not None
        self._writer.close()
        self._writer, self._closed = None, True

    def sorted_differences(self) -> pa.Array:
        self.close()
        column = pq.read_table(self.path, columns=["difference"]).column("difference").combine_chunks()
        return pc.take(column, pc.array_sort_indices(column))

    def rows_in_order(self) -> Iterator[tuple[str, float, str, str]]:
        self.close()
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=ROWS):
            yield from zip(*(batch.column(i).to_pylist() for i in range(4)), strict=True)
