"""Ordered rows pages without SQL: the file rows of each filter value's block, sorted by one column.

``ORDER BY column [DESC] NULLS LAST, file_row_number`` over the rows of one value of the filtered column
(or over all rows without a filter) is, once sorted, a list of file row numbers; a keyset page after a
cursor ``(value, file row)`` is a binary search in it, then ``limit + 1`` entries. ``OrderIndex`` holds
that list for every block of a ``ValueIndex`` at once (one ``np.lexsort`` of the release: block, order
key, nulls last, file row) with the order keys in the same order, so the search needs no Python values.

Only columns whose order NumPy reproduces exactly as DuckDB's are indexed: integers (signed and
unsigned), booleans and dates, compared as integers (a descending key is the bitwise complement, which
reverses the order without overflow). Text (collations), floats (NaN, -0.0) and timestamps stay on
DuckDB. ``tests/test_api_fast_rows.py`` holds every page against the DuckDB path's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EPOCH = date(1970, 1, 1)
#: The whole file as one block, for pages without a filter.
ALL_ROWS = object()


def orderable(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_boolean(kind) or pa.types.is_date32(kind)


def _keys(column: pa.ChunkedArray) -> np.ndarray:
    """The column as integers in its own order (nulls as 0; ``valid`` tells them apart)."""
    kind = column.type
    if pa.types.is_boolean(kind):
        return np.asarray(pc.fill_null(column, False).to_numpy(zero_copy_only=False), dtype=np.int64)
    if pa.types.is_date32(kind):
        column = pc.cast(column, pa.int32())
    values = pc.fill_null(column, 0).to_numpy()
    return values.astype(np.uint64 if pa.types.is_unsigned_integer(column.type) else np.int64)


@dataclass(frozen=True)
class OrderIndex:
    """Per block ``(start, nulls_start, end)``: ``positions[start:end]`` are its file rows in the order,
    ``keys[start:nulls_start]`` their non-decreasing order keys, ``positions[nulls_start:end]`` its nulls."""

    kind: pa.DataType
    descending: bool
    positions: np.ndarray
    keys: np.ndarray
    blocks: dict[Any, tuple[int, int, int]]

    @classmethod
    def build(cls, column: pa.ChunkedArray, descending: bool, rows: np.ndarray,
              blocks: dict[Any, tuple[int, int]]) -> OrderIndex | None:
        """``rows`` and ``blocks``: a ``ValueIndex``'s positions and blocks (or ``arange`` and one block)."""
        if not orderable(column.type):
            return None
        keys = _keys(column)
        keys = ~keys if descending else keys
        valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        block_of = np.zeros(len(rows), dtype=np.int64)
        spans = sorted(blocks.values())
        for number, (start, end) in enumerate(spans):
            block_of[start:end] = number
        order = np.lexsort((rows, keys[rows], ~valid[rows], block_of))
        positions = rows[order]
        valid_counts = np.concatenate([[0], np.cumsum(valid[positions])])
        found = {
            value: (start, start + int(valid_counts[end] - valid_counts[start]), end)
            for value, (start, end) in blocks.items()
        }
        return cls(column.type, descending, positions, keys[positions], found)

    def _key(self, value: Any) -> Any:
        """The cursor's JSON value as this index's key, or None when it cannot be one (DuckDB decides)."""
        try:
            if pa.types.is_date32(self.kind):
                number = (date.fromisoformat(value) - EPOCH).days if isinstance(value, str) else None
            elif pa.types.is_boolean(self.kind):
                number = int(value) if isinstance(value, bool) else None
            else:
                number = value if isinstance(value, int) and not isinstance(value, bool) else None
            if number is None:
                return None
            key = np.array(number, dtype=self.keys.dtype)
        except (ValueError, OverflowError):
            return None
        return ~key if self.descending else key

    def rows_after(self, block: Any, after: tuple[Any, int] | None, count: int) -> np.ndarray | None:
        """Up to ``count`` file rows of ``block`` after the cursor's ``(value, file row)``, in order."""
        start, nulls, end = self.blocks.get(block, (0, 0, 0))
        if after is None:
            first = start
        elif after[0] is None:  # nothing sorts after a null but the later nulls
            first = nulls + int(np.searchsorted(self.positions[nulls:end], after[1], side="right"))
        else:
            key = self._key(after[0])
            if key is None:
                return None
            low = start + int(np.searchsorted(self.keys[start:nulls], key, side="left"))
            high = start + int(np.searchsorted(self.keys[start:nulls], key, side="right"))
            first = low + int(np.searchsorted(self.positions[low:high], after[1], side="right"))
        return self.positions[first : min(first + count, end)]
