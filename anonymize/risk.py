"""Residual re-identification risk over the quasi-identifiers, and k-anonymity by suppression.

An equivalence class is the set of records sharing one combination of quasi-identifier values (a null
is a value like any other). DuckDB does the grouping, vectorised; row order is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from anonymize.report import RiskMeasure

_ROW = "__opendata_row"


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join('"' + c.replace('"', '""') + '"' for c in columns)


def measure(table: pa.Table, quasi_identifiers: Sequence[str]) -> RiskMeasure:
    if table.num_rows == 0 or not quasi_identifiers:
        return RiskMeasure(records=table.num_rows, equivalence_classes=min(table.num_rows, 1),
                           smallest_class=table.num_rows, unique_records=0, uniqueness=0.0)
    keys = _quoted(quasi_identifiers)
    con = duckdb.connect()
    try:
        con.register("qi", table.select(list(quasi_identifiers)))
        rows = con.execute(
            f"SELECT size, count(*) FROM (SELECT count(*) AS size FROM qi GROUP BY {keys}) "
            "GROUP BY size ORDER BY size"
        ).fetchall()
    finally:
        con.close()
    histogram = {str(size): int(classes) for size, classes in rows}
    unique = int(histogram.get("1", 0))
    return RiskMeasure(
        records=table.num_rows,
        equivalence_classes=sum(int(c) for _, c in rows),
        smallest_class=int(rows[0][0]),
        unique_records=unique,
        uniqueness=round(unique / table.num_rows, 6),
        class_sizes=histogram,
    )


def suppress_small_classes(table: pa.Table, quasi_identifiers: Sequence[str], k: int) -> tuple[pa.Table, int]:
    """Remove records whose equivalence class has fewer than ``k`` records; return the table and how many."""
    if k <= 1 or table.num_rows == 0 or not quasi_identifiers:
        return table, 0
    keys = _quoted(quasi_identifiers)
    con = duckdb.connect()
    try:
        con.register("qi", table.select(list(quasi_identifiers)).append_column(
            _ROW, pa.array(range(table.num_rows), pa.int64())
        ))
        kept = con.execute(
            f"SELECT {_ROW} FROM (SELECT {_ROW}, count(*) OVER (PARTITION BY {keys}) AS size FROM qi) "
            f"WHERE size >= ? ORDER BY {_ROW}", [k]
        ).fetch_arrow_table().column(0)
    finally:
        con.close()
    return table.take(kept), table.num_rows - len(kept)
