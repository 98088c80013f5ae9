"""Rows pages without SQL: in-memory Arrow copies of recent releases, with an index of each value's rows.

A rows page with no ``order`` and at most one equality filter (on a text, integer, boolean or date
column) is a lookup, not a query: the release in file order is an Arrow table, and a ``ValueIndex``
holds, for each value of the filtered column, the file row numbers that hold it (ascending). The page
after a cursor's row is a binary search in that list, then a slice (when the rows are contiguous, as they
are when the release was sorted on that column at publish) or a take of ``limit + 1`` rows. The answer is
the one ``api.query.fetch_rows`` gives on DuckDB: same rows, same order, same cursor
(``tests/test_api_fast_rows.py`` holds them side by side). An ``order`` on one column is file order
when the release was sorted that way at publish (checked once); otherwise an integer, boolean or date
column gets an ``OrderIndex`` (``api.order_index``: each block's rows sorted by it, at most
``MAX_ORDER_INDEXES`` a release). Every other page goes to DuckDB.

Tables are loaded through the API's locked DuckDB engine (so their Arrow types are the ones the DuckDB
path returns) and share the ``release_memory_rows`` budget, least recently used first out. An index is
built on a column's first filtered page; a column with more than ``MAX_INDEXED_VALUES`` distinct values
is not indexed (such filters go to DuckDB).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import repeat
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from api.cursor import Cursor, encode_cursor
from api.engine import QueryEngine, has_geometry
from api.order_index import ALL_ROWS, OrderIndex
from api.query import RowsPage, RowsQuery, json_value
from catalog.models import Release
from opendata.errors import OpendataError

MAX_INDEXED_VALUES = 100_000
#: Order indexes kept per release (each two arrays of the release's length).
MAX_ORDER_INDEXES = 8


def _value_fits(kind: pa.DataType, value: Any) -> bool:
    """Whether Python equality of ``value`` with the column's cells is exactly SQL's ``=`` on them."""
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return isinstance(value, str)
    if pa.types.is_integer(kind):
        return isinstance(value, int) and not isinstance(value, bool)
    if pa.types.is_boolean(kind):
        return isinstance(value, bool)
    if pa.types.is_date32(kind):
        return isinstance(value, date) and not isinstance(value, datetime)
    return False  # floats (0.0 == -0.0, NaN), timestamps (zones), nested types: DuckDB decides


@dataclass(frozen=True)
class ValueIndex:
    """For each value of one column, the file row numbers holding it: ``positions[start:end]``, ascending."""

    positions: np.ndarray
    blocks: dict[Any, tuple[int, int]]

    @classmethod
    def build(cls, column: pa.ChunkedArray) -> ValueIndex | None:
        encoded = pc.dictionary_encode(column.combine_chunks())
        values = encoded.dictionary.to_pylist()
        if len(values) > MAX_INDEXED_VALUES:
            return None
        codes = np.asarray(pc.fill_null(encoded.indices, len(values)), dtype=np.int64)  # nulls: a last block
        positions = np.argsort(codes, kind="stable")  # stable: file order within each value
        ends = np.cumsum(np.bincount(codes, minlength=len(values) + 1))
        starts = ends - np.bincount(codes, minlength=len(values) + 1)
        blocks = {value: (int(starts[i]), int(ends[i])) for i, value in enumerate(values)}
        return cls(positions, blocks)

    def rows_after(self, value: Any, after_row: int, count: int) -> np.ndarray:
        start, end = self.blocks.get(value, (0, 0))
        block = self.positions[start:end]
        first = int(np.searchsorted(block, after_row, side="right"))
        return block[first : first + count]


@dataclass
class ReleaseTable:
    table: pa.Table
    indexes: dict[str, ValueIndex | None] = field(default_factory=dict)
    #: (filter column or "", order column, descending) -> whether file order is that order within each block
    ordered: dict[tuple[str, str, bool], bool] = field(default_factory=dict)
    #: the same keys -> the blocks' rows sorted by that order, where file order is not it
    orders: dict[tuple[str, str, bool], OrderIndex | None] = field(default_factory=dict)

    def order_index(self, filtered: str | None, column: str, descending: bool) -> OrderIndex | None:
        key = (filtered or "", column, descending)
        if key not in self.orders:
            if column not in self.table.schema.names:
                return None
            if sum(found is not None for found in self.orders.values()) >= MAX_ORDER_INDEXES:
                return None  # memory for a few orders a release; the rest go to DuckDB
            if filtered is None:
                rows, blocks = np.arange(self.table.num_rows, dtype=np.int64), {ALL_ROWS: (0, self.table.num_rows)}
            else:
                index = self.index(filtered)
                if index is None:
                    return None
                rows, blocks = index.positions, index.blocks
            self.orders[key] = OrderIndex.build(self.table.column(column), descending, rows, blocks)
        return self.orders[key]

    def in_file_order(self, filtered: str | None, column: str, descending: bool) -> bool:
        """Whether ``column`` (no nulls) runs in ``descending`` or ascending order along the file, within each
        value block of ``filtered`` (the whole file when None): then ``ORDER BY column, file_row_number`` over
        rows of one block is file order, and an ordered page is a file-order page."""
        key = (filtered or "", column, descending)
        if key not in self.ordered:
            self.ordered[key] = self._check(filtered, column, descending)
        return self.ordered[key]

    def _check(self, filtered: str | None, column: str, descending: bool) -> bool:
        values = self.table.column(column)
        if values.null_count or len(values) < 2:
            return values.null_count == 0
        boundaries = np.zeros(0, dtype=np.int64)
        if filtered is not None:
            index = self.index(filtered)
            if index is None:
                return False
            values = values.take(pa.array(index.positions, type=pa.int64()))
            starts = np.array(sorted(start for start, _ in index.blocks.values()), dtype=np.int64)
            boundaries = starts[starts > 0] - 1  # the pair (last of a block, first of the next) is not compared
        try:
            wrong = (pc.less if not descending else pc.greater)(values[1:], values[:-1])
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            return False  # a type Arrow does not order (nested values): DuckDB orders it
        flags = np.asarray(pc.fill_null(wrong, True).to_numpy(zero_copy_only=False), dtype=bool)
        flags[boundaries] = False
        return not bool(flags.any())

    def has(self, columns: list[str]) -> bool:
        names = self.table.schema.names
        return all(c in names for c in columns)

    def index(self, column: str) -> ValueIndex | None:
        if column not in self.indexes:
            self.indexes[column] = ValueIndex.build(self.table.column(column))
        return self.indexes[column]


class ReleaseTables:
    """Arrow copies of recently paged releases (up to ``memory_rows`` rows in all) and their indexes."""

    def __init__(self, engine: QueryEngine, memory_rows: int) -> None:
        self.engine = engine
        self.memory_rows = memory_rows
        self._tables: OrderedDict[tuple[str, int], ReleaseTable] = OrderedDict()
        self._lock = threading.Lock()

    def _fits(self, release: Release, query: RowsQuery, position: Cursor | None) -> bool:
        if len(query.order) > 1 or len(query.filters) > 1:
            return False
        if position is not None and len(position.after_values) != len(query.order):
            return False
        if query.geo is not None or has_geometry(release):  # geometry is served as GeoJSON, by DuckDB spatial
            return False
        return (not query.filters or query.filters[0].op == "eq") and release.rows <= self.memory_rows

    @staticmethod
    def _ordered_as_file(found: ReleaseTable, query: RowsQuery) -> bool:
        """Whether the query's order (if any) is file order over the rows its filter selects."""
        if not query.order:
            return True
        order = query.order[0]
        if not found.has([order.column]):
            return False
        filtered = query.filters[0].column if query.filters else None
        return found.in_file_order(filtered, order.column, order.descending)

    def warm(self, release: Release, query: RowsQuery, position: Cursor | None) -> bool:
        """Whether ``page`` answers this from memory already loaded and indexed (microseconds, no I/O)."""
        if not self._fits(release, query, position):
            return False
        found = self._tables.get((release.dataset, release.number))
        if found is None:
            return False
        if query.order:
            order = query.order[0]
            key = (query.filters[0].column if query.filters else "", order.column, order.descending)
            if not found.ordered.get(key, False) and found.orders.get(key) is None:
                return False
        return not query.filters or found.indexes.get(query.filters[0].column) is not None

    def page(self, release: Release, query: RowsQuery, *, limit: int, position: Cursor | None,
             filters_hash: str) -> RowsPage | None:
        """The page ``fetch_rows`` would give, or None when this request needs DuckDB."""
        if not self._fits(release, query, position):
            return None
        found = self._table(release)
        if found is None or not found.has([*query.columns, *(f.column for f in query.filters)]):
            return None
        sorted_by: OrderIndex | None = None
        if query.order:
            with self._lock:
                if not self._ordered_as_file(found, query):
                    filtered = query.filters[0].column if query.filters else None
                    sorted_by = found.order_index(filtered, query.order[0].column, query.order[0].descending)
                    if sorted_by is None:
                        return None
        after_row = position.after_row if position else -1
        index = None
        value: Any = ALL_ROWS
        if query.filters:
            column, value = query.filters[0].column, query.filters[0].value
            if not _value_fits(found.table.schema.field(column).type, value):
                return None
            index = found.indexes.get(column)
            if column not in found.indexes:
                with self._lock:
                    index = found.index(column)
            if index is None:
                return None
        if sorted_by is not None:
            after = (position.after_values[0], after_row) if position else None
            found_rows = sorted_by.rows_after(value, after, limit + 1)
            if found_rows is None:
                return None
            rows = found_rows
        elif index is not None:
            rows = index.rows_after(value, after_row, limit + 1)
        else:
            start = max(after_row + 1, 0)
            rows = np.arange(start, min(start + limit + 1, found.table.num_rows), dtype=np.int64)
        order = [o.column for o in query.order]
        return self._rows_page(release, found.table, query.columns, rows, limit, filters_hash, order,
                               ascending=sorted_by is None)

    @staticmethod
    def _rows_page(release: Release, table: pa.Table, columns: list[str], rows: np.ndarray, limit: int,
                   filters_hash: str, order: list[str] | None = None, *, ascending: bool = True) -> RowsPage:
        """``ascending``: ``rows`` run up the file (then first and last tell a contiguous run); rows from an
        order index may be a shuffled run."""
        shown = rows[:limit]
        selected = table.select(columns)
        if len(shown) and ascending and int(shown[-1]) - int(shown[0]) == len(shown) - 1:
            picked = selected.slice(int(shown[0]), len(shown))  # a contiguous block: no copy
        else:
            picked = selected.take(pa.array(shown, type=pa.int64()))
        next_cursor = None
        if len(rows) > limit:
            last = int(shown[-1])
            values = tuple(json_value(table.column(c)[last].as_py()) for c in order or [])
            next_cursor = encode_cursor(Cursor(release.number, last, filters_hash, values))
        return RowsPage(release.number, columns, _plain_rows(picked), next_cursor)

    def _table(self, release: Release) -> ReleaseTable | None:
        key = (release.dataset, release.number)
        found = self._tables.get(key)  # no lock when loaded: a load elsewhere must not stall the event loop
        if found is not None:
            try:
                self._tables.move_to_end(key)
            except KeyError:
                pass  # evicted meanwhile; this request still has its table
            return found
        with self._lock:
            found = self._tables.get(key)
            if found is not None:
                self._tables.move_to_end(key)
                return found
            try:
                table = self._load(release)
            except OpendataError:
                return None  # e.g. past the query time limit: DuckDB pages it instead
            found = self._tables[key] = ReleaseTable(table)
            while sum(t.table.num_rows for t in self._tables.values()) > self.memory_rows:
                self._tables.popitem(last=False)
            return found

    def _load(self, release: Release) -> pa.Table:
        path = self.engine.release_file(release, "data.parquet")
        return self.engine.execute(
            "SELECT * EXCLUDE (file_row_number) FROM read_parquet(?, file_row_number = true) "
            "ORDER BY file_row_number", [str(path)],
        )

    def loaded(self, release: Release) -> bool:
        return (release.dataset, release.number) in self._tables


def _plain_rows(table: pa.Table) -> list[dict[str, Any]]:
    """The rows as dicts; dates as their ISO text, which is what JSON and CSV show of them (Arrow makes
    ``date`` objects six times slower than it casts to text)."""
    columns = [_plain_values(column) for column in table.columns]
    return list(map(dict, map(zip, repeat(table.column_names), zip(*columns, strict=True))))


def _plain_values(column: pa.ChunkedArray) -> list[Any]:
    kind = column.type
    if pa.types.is_date32(kind):
        return pc.cast(column, pa.string()).to_pylist()
    if column.null_count == 0 and (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        # The same Python ints and floats as ``to_pylist`` (float32 widened exactly), made by NumPy in bulk.
        return column.to_numpy().tolist()
    return column.to_pylist()
