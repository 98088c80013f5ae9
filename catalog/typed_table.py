"""Turn the validated text table into typed columns, per its Table Schema, with DuckDB.

Datetimes are published as instants (``TIMESTAMPTZ``; Parquet ``isAdjustedToUTC``): a value with an
offset (``2024-03-04T05:00:00-05:00``, ``...Z``) is that instant, and a naive one is read in the job's
``timezone`` (the dataset's declared local zone, default UTC), so no published timestamp is ambiguous.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from catalog.geometry import bbox_selects, geometry_columns, geometry_sql, hilbert_order, point_sql, published_schema
from opendata.duckdb_extensions import load_spatial
from opendata.sql_text import quote_identifier, quote_literal, read_parquet_sql

DUCKDB_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "date": "DATE",
    "datetime": "TIMESTAMPTZ",
    "time": "TIME",
    "year": "INTEGER",
}
MEMORY_LIMIT = "128MB"
#: Rows per Parquet row group of a release with geometry (Hilbert-sorted: each group covers a small area):
#: a geo filter pays for checking every group's statistics and for decoding the groups it cannot skip, so
#: the size grows with the table (about 20 x its square root, a power of two, in these bounds). Measured
#: on 10,000,000 points (``python -m benchmarks geo``): 65,536-row groups answer ``near`` in half the time
#: of 16,384-row groups, which spend it checking 611 groups' statistics.
GEOMETRY_ROW_GROUP = (16384, 131072)
#: A geo filter decodes the row groups it cannot skip on every request: snappy decodes them about a third
#: faster than zstd (17.0 vs 25.3 ms for ``near`` on 10,000,000 points), for a file about 18% larger.
GEOMETRY_COMPRESSION = "snappy"
DEFAULT_TRUE = ["true", "True", "TRUE", "1"]
DEFAULT_FALSE = ["false", "False", "FALSE", "0"]


def _literal_list(values: list[str]) -> str:
    return "[" + ", ".join(quote_literal(v) for v in values) + "]"


def _cast(field: dict[str, Any], missing: list[str]) -> str:
    column = quote_identifier(field["name"])
    value = f"CASE WHEN {column} IN ({', '.join(repr(m) for m in missing)}) THEN NULL ELSE {column} END"
    if not missing:
        value = column
    kind = field.get("type", "any")
    geometry = geometry_sql(field, value)
    if geometry is not None:
        return geometry
    if kind == "boolean":
        trues = _literal_list(field.get("trueValues", DEFAULT_TRUE))
        falses = _literal_list(field.get("falseValues", DEFAULT_FALSE))
        return (
            f"CASE WHEN list_contains({trues}, {value}) THEN true "
            f"WHEN list_contains({falses}, {value}) THEN false END"
        )
    if kind == "datetime":
        # ISO 8601 with or without an offset; the session's TimeZone (the job's zone) reads naive values.
        return f"CAST({value} AS TIMESTAMPTZ)"
    if kind == "integer" and field.get("bareNumber") is False:
        return f"CAST(regexp_replace({value}, '[^0-9-]', '', 'g') AS BIGINT)"
    return f"CAST({value} AS {DUCKDB_TYPES.get(kind, 'VARCHAR')})"


def geometry_row_group(rows: int) -> int:
    """Rows per row group of a release with geometry of ``rows`` rows (see ``GEOMETRY_ROW_GROUP``)."""
    low, high = GEOMETRY_ROW_GROUP
    size = low
    while size < high and size * size < 400 * rows:
        size *= 2
    return size


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {relation}").fetchone()
    return int(row[0]) if row else 0


def sort_columns(table_schema: dict[str, Any], sort_by: Sequence[str] | None) -> list[str]:
    """The columns a release is sorted by: ``sort_by`` (a job's ``publish.sort_by``), else the primaryKey."""
    names = [str(f["name"]) for f in table_schema.get("fields", [])]
    if not sort_by:
        key = table_schema.get("primaryKey") or []
        sort_by = [key] if isinstance(key, str) else list(key)
    return [c for c in sort_by if c in names]


def write_typed_parquet(
    table: pa.Table, table_schema: dict[str, Any], target: Path, sort_by: Sequence[str] | None = None,
    timezone: str = "UTC",
    points: dict[str, tuple[str, str]] | None = None,
) -> int:
    """Write ``table`` to Parquet with the schema's types; returns the row count written.

    Rows are sorted by ``sort_columns`` (nulls last), so Parquet row-group min/max statistics let the
    API's queries on those columns skip the row groups a filter cannot match."""
    con = duckdb.connect()
    try:
        con.execute("SET threads=2")
        con.register("validated", table)
        return _copy_typed(con, "validated", table_schema, target, sort_by, timezone, points or {})
    finally:
        con.close()


def write_typed_parquet_file(
    source: Path, table_schema: dict[str, Any], target: Path, sort_by: Sequence[str] | None = None, *,
    memory_limit: str = MEMORY_LIMIT, spill: Path | None = None, timezone: str = "UTC",
    points: dict[str, tuple[str, str]] | None = None,
) -> int:
    """:func:`write_typed_parquet` from a Parquet file of text columns, which DuckDB scans itself: the
    table is never loaded into Python, and the sort spills to ``spill`` (default: a temporary folder beside
    ``source``) past ``memory_limit``."""
    folder = Path(tempfile.mkdtemp(prefix=".publish-spill-", dir=spill or source.parent))
    con = duckdb.connect(config={"threads": 2, "memory_limit": memory_limit, "temp_directory": str(folder)})
    try:
        relation = read_parquet_sql(source)
        return _copy_typed(con, relation, table_schema, target, sort_by, timezone, points or {})
    finally:
        con.close()
        shutil.rmtree(folder, ignore_errors=True)


def _copy_typed(
    con: duckdb.DuckDBPyConnection, relation: str, table_schema: dict[str, Any], target: Path,
    sort_by: Sequence[str] | None, timezone: str, points: dict[str, tuple[str, str]],
) -> int:
    missing = [str(m) for m in table_schema.get("missingValues", [""])]
    selects = [
        f"{_cast(field, missing)} AS {quote_identifier(field['name'])}" for field in table_schema["fields"]
    ]
    order = sort_columns(table_schema, sort_by)
    order_terms = [quote_identifier(c) + " NULLS LAST" for c in order]
    geometry = geometry_columns(published_schema(table_schema, points))
    typed = f"SELECT {', '.join(selects)} FROM {relation}"
    row_group, compression = 122880, "zstd"
    if geometry:  # typed first, then the points and bounding boxes made of the typed columns
        for statement in load_spatial():
            con.execute(statement)
        made = [f"{point_sql(lat, lon)} AS {quote_identifier(name)}" for name, (lat, lon) in points.items()]
        with_points = f"SELECT *{''.join(', ' + m for m in made)} FROM ({typed})"
        typed = f"SELECT *, {', '.join(bbox_selects(geometry))} FROM ({with_points})"
        order_terms = order_terms or [hilbert_order(geometry[0])]
        row_group = geometry_row_group(_count(con, relation))
        compression = GEOMETRY_COMPRESSION
    order_sql = f" ORDER BY {', '.join(order_terms)}" if order_terms else ""
    con.execute(f"SET TimeZone={quote_literal(timezone)}")
    con.execute(
        f"COPY ({typed}{order_sql}) TO '{target.as_posix()}' "
        f"(FORMAT parquet, COMPRESSION {compression}, ROW_GROUP_SIZE {row_group})"
    )
    row = con.execute(f"SELECT count(*) FROM read_parquet('{target.as_posix()}')").fetchone()
    return int(row[0]) if row else 0
