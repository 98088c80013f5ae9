"""Residual re-identification risk over the quasi-identifiers: k-anonymity, l-diversity, suppression.

An equivalence class is the set of records sharing one combination of quasi-identifier values (a null
is a value like any other). A class is *k-anonymous* when it holds at least k records, and
*l-diverse* (distinct l-diversity) when each sensitive column takes at least l distinct values in it
(a null counting as one value). DuckDB does the grouping, vectorised; row order is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from anonymize.report import RiskMeasure
from opendata.sql_text import quote_identifier

_ROW = "__opendata_row"


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join(quote_identifier(c) for c in columns)


def _diversity(sensitive: Sequence[str]) -> str:
    """SQL: per class, the fewest distinct values any sensitive column takes (1 with none)."""
    if not sensitive:
        return "1"
    counts = [f"count(DISTINCT coalesce(CAST({quote_identifier(s)} AS VARCHAR), chr(0)))" for s in sensitive]
    return counts[0] if len(counts) == 1 else f"least({', '.join(counts)})"


def measure(
    table: pa.Table, quasi_identifiers: Sequence[str], sensitive: Sequence[str] = (), k: int = 1, l: int = 1  # noqa: E741
) -> RiskMeasure:
    if table.num_rows == 0 or not quasi_identifiers:
        return measure_relation(None, "", table.num_rows, quasi_identifiers, sensitive, k, l)
    columns = list(dict.fromkeys([*quasi_identifiers, *sensitive]))
    con = duckdb.connect()
    try:
        con.register("qi", table.select(columns))
        return measure_relation(con, "qi", table.num_rows, quasi_identifiers, sensitive, k, l)
    finally:
        con.close()


def measure_relation(
    con: duckdb.DuckDBPyConnection | None, relation: str, records: int, quasi_identifiers: Sequence[str],
    sensitive: Sequence[str] = (), k: int = 1, l: int = 1,  # noqa: E741
) -> RiskMeasure:
    """:func:`measure` over any relation DuckDB can scan (a registered table, ``read_parquet(...)``) that
    holds ``records`` rows; the grouping runs in DuckDB, under the connection's memory limit."""
    if records == 0 or not quasi_identifiers or con is None:
        return RiskMeasure(records=records, equivalence_classes=min(records, 1),
                           smallest_class=records, unique_records=0, uniqueness=0.0)
    keys = _quoted(quasi_identifiers)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE classes AS SELECT count(*) AS size, {_diversity(sensitive)} AS diversity "
        f"FROM {relation} GROUP BY {keys}"
    )
    rows = con.execute("SELECT size, count(*) FROM classes GROUP BY size ORDER BY size").fetchall()
    lowest, below_k, below_l = con.execute(
        "SELECT min(diversity), coalesce(sum(size) FILTER (WHERE size < ?), 0), "
        "coalesce(sum(size) FILTER (WHERE diversity < ?), 0) FROM classes", [k, l]
    ).fetchone() or (None, 0, 0)
    con.execute("DROP TABLE classes")
    histogram = {str(size): int(classes) for size, classes in rows}
    unique = int(histogram.get("1", 0))
    return RiskMeasure(
        records=records,
        equivalence_classes=sum(int(c) for _, c in rows),
        smallest_class=int(rows[0][0]),
        unique_records=unique,
        uniqueness=round(unique / records, 6),
        class_sizes=histogram,
        l_diversity=int(lowest) if sensitive and lowest is not None else None,
        records_below_k=int(below_k),
        records_below_l=int(below_l) if sensitive else 0,
    )


def needs_suppression(quasi_identifiers: Sequence[str], k: int, sensitive: Sequence[str] = (), l: int = 1) -> bool:  # noqa: E741
    """Whether :func:`suppress_small_classes` can remove anything for these parameters."""
    return bool(quasi_identifiers) and not (k <= 1 and (l <= 1 or not sensitive))


def small_classes_sql(
    relation: str, quasi_identifiers: Sequence[str], sensitive: Sequence[str] = ()
) -> str:
    """SQL (parameters: k, l) of the quasi-identifier values of every class that
    :func:`suppress_small_classes` removes: fewer than k records, or fewer than l values of a sensitive column."""
    keys = _quoted(quasi_identifiers)
    return (f"SELECT {keys} FROM {relation} GROUP BY {keys} "
            f"HAVING count(*) < ? OR {_diversity(sensitive)} < ?")


def suppress_small_classes(
    table: pa.Table, quasi_identifiers: Sequence[str], k: int, sensitive: Sequence[str] = (), l: int = 1  # noqa: E741
) -> tuple[pa.Table, int]:
    """Remove records whose class has fewer than ``k`` records (or fewer than ``l`` distinct values of a
    sensitive column); return the table and how many records went."""
    if not needs_suppression(quasi_identifiers, k, sensitive, l) or table.num_rows == 0:
        return table, 0
    keys = _quoted(quasi_identifiers)
    columns = list(dict.fromkeys([*quasi_identifiers, *sensitive]))
    diversity = "1"
    if sensitive:
        diversity = "least(" + ", ".join(
            f"count(DISTINCT coalesce(CAST({quote_identifier(s)} AS VARCHAR), chr(0))) OVER (PARTITION BY {keys})"
            for s in sensitive
        ) + ", 2147483647)"
    con = duckdb.connect()
    try:
        con.register("qi", table.select(columns).append_column(
            _ROW, pa.array(range(table.num_rows), pa.int64())
        ))
        kept = con.execute(
            f"SELECT {_ROW} FROM (SELECT {_ROW}, count(*) OVER (PARTITION BY {keys}) AS size, "
            f"{diversity} AS diversity FROM qi) WHERE size >= ? AND diversity >= ? ORDER BY {_ROW}", [k, l]
        ).fetch_arrow_table().column(0)
    finally:
        con.close()
    return table.take(kept), table.num_rows - len(kept)
