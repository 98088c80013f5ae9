"""The first pass: one scan of every cell that keeps only the rows that may hold an error.

Each field gets a flag ``s<i>`` that is FALSE only when the cell is certainly fine (missing and not
required, or of a common shape that passes its type and constraints: ``validation.fast_sql``). The rows
with a flag set, a missing cell or no value at all are stored with their text in ``suspect``; the full
checks of ``validation.engine`` then run on those rows and flagged fields only. Key fields (unique,
primary and foreign keys) compare values across all rows, so their typed values go to ``keyed``.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from validation.engine import constraint_checks, missing_sql
from validation.fast_sql import cell_is_fine, fast_check
from validation.field_sql import type_sql
from validation.schema_spec import FieldSpec


def _field_flag(spec: FieldSpec, i: int) -> str:
    c = f"c{i}"
    generic = [sql for name, sql in constraint_checks(spec, i, f"({fast_check(spec, c).value})") if name != "required"]
    return f"CASE WHEN m{i} THEN {'true' if spec.required else 'false'} ELSE NOT {cell_is_fine(spec, c, generic)} END"


def find_suspects(con: duckdb.DuckDBPyConnection, fields: Sequence[FieldSpec], source: str = "cells") -> None:
    """Create ``suspect(_row, _width, c1..cN, m1..mN, s1..sN)`` from ``source``: the rows that may hold an
    error, with each field's missing flag m, its suspect flag s and, only where s is set, its text c."""
    n = len(fields)
    missing = [f"{missing_sql(spec, f'c{i}')} AS m{i}" for i, spec in enumerate(fields, start=1)]
    flags = [f"{_field_flag(spec, i)} AS s{i}" for i, spec in enumerate(fields, start=1)]
    texts = ", ".join(["_row", "_width"] + [f"c{i}" for i in range(1, n + 1)])
    flag_names = [f"s{i}" for i in range(1, n + 1)]
    missing_names = [f"m{i}" for i in range(1, n + 1)]
    kept = ["_row", "_width"] + [f"CASE WHEN s{i} THEN c{i} END AS c{i}" for i in range(1, n + 1)]
    keep = " OR ".join([f"_width < {n}", " AND ".join(missing_names) or "true", *flag_names])
    # Pushing the filter below the projection would compute every flag twice (in the filter, then again
    # for the rows kept): the flags are most of this pass's work.
    con.execute("SET disabled_optimizers = 'filter_pushdown'")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE suspect AS
        SELECT {', '.join(kept + missing_names + flag_names)}
        FROM (SELECT {', '.join(["_row", "_width"] + [f"c{i}" for i in range(1, n + 1)] + flags + missing_names)}
              FROM (SELECT {', '.join([texts] + missing)} FROM {source}))
        WHERE {keep}""")
    con.execute("RESET disabled_optimizers")


def key_values(con: duckdb.DuckDBPyConnection, fields: Sequence[FieldSpec], numbers: set[int],
               source: str = "cells") -> None:
    """Create ``keyed(_row, c<i>, v<i>)`` for the key fields ``numbers``: every row's text and typed value."""
    columns = ["_row"]
    for i in sorted(numbers):
        spec, c = fields[i - 1], f"c{i}"
        fast, slow = fast_check(spec, c), type_sql(spec, c)
        value = f"coalesce(CASE WHEN {fast.shape} THEN {fast.value} END, {slow.guarded})"
        columns += [c, f"CASE WHEN NOT {missing_sql(spec, c)} THEN {value} END AS v{i}"]
    con.execute(f"CREATE OR REPLACE TEMP TABLE keyed AS SELECT {', '.join(columns)} FROM {source}")
