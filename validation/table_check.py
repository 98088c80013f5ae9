"""Check a table against its Frictionless Table Schema with DuckDB, reporting what frictionless reports.

``validate_table`` is the in-memory entry (an anonymised Arrow table of text columns); ``check_cells``
is the shared core that ``validate_file`` and ``validate_parquet`` also use. Errors keep frictionless's
types and numbering. The ``validate_*`` entries return the report only (messages built for the listed
errors only); the ``check_*`` ones also return every row error as Arrow, for quarantining rows.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from opendata.errors import SchemaInvalid
from validation import engine, suspects
from validation.engine import Reference
from validation.header import check_header
from validation.report import ErrorCount, ValidationError, ValidationReport
from validation.schema_spec import FieldSpec, TableSpec, read_table_schema

MAX_ERRORS = 1000
FIRST_ROWS = 5

MESSAGE = """CASE type
  WHEN 'type-error' THEN 'Type error in the cell "' || cell || '" in row "' || _row || '" and field "'
       || field_name || '" at position "' || field_number || '": ' || note
  WHEN 'constraint-error' THEN 'The cell "' || cell || '" in row at position "' || _row || '" and field "'
       || field_name || '" at position "' || field_number || '" does not conform to a constraint: ' || note
  WHEN 'missing-cell' THEN 'Row at position "' || _row || '" has a missing cell in field "' || field_name
       || '" at position "' || field_number || '"'
  WHEN 'extra-cell' THEN 'Row at position "' || _row || '" has an extra value in field at position "'
       || field_number || '"'
  WHEN 'blank-row' THEN 'Row at position "' || _row || '" is completely blank'
  WHEN 'unique-error' THEN 'Row at position "' || _row || '" has unique constraint violation in field "'
       || field_name || '" at position "' || field_number || '": ' || note
  WHEN 'primary-key' THEN 'Row at position "' || _row || '" violates the primary key: ' || note
  WHEN 'foreign-key' THEN 'Row at position "' || _row || '" violates the foreign key: ' || note
  ELSE note END"""


@dataclass
class TableCheck:
    """The report, plus every row-level error as Arrow (for quarantining invalid rows)."""

    report: ValidationReport
    row_errors: pa.Table = field(default_factory=lambda: pa.table({"rowNumber": pa.array([], pa.int64())}))

    @property
    def invalid_rows(self) -> list[int]:
        return sorted(set(self.row_errors.column("rowNumber").to_pylist()))


def schema_error(message: str, rows: int = 0) -> ValidationReport:
    return ValidationReport(valid=False, stats={"rows": rows, "fields": 0, "errors": 1},
                            errors=[ValidationError(type="schema-error", message=f"Schema is not valid: {message}")])


def check_cells(labels: list[str], cells: pa.Table | str, spec: TableSpec, *,
                extra_cells: list[tuple[int, int, str]] | None = None,
                references: Mapping[str, Reference] | None = None, threads: int = 2,
                config: Mapping[str, str] | None = None, keep_row_errors: bool = True,
                stored_errors: bool = False) -> TableCheck:
    """``cells`` has ``_row, _width, c1..cN`` with one text column per label (see validation.engine): an
    Arrow table, or a SQL query that DuckDB scans (a Parquet file, never loaded into Python).
    ``config`` adds DuckDB settings (``memory_limit``, ``temp_directory``). Without ``keep_row_errors``
    only the listed errors and the counts leave DuckDB; with ``stored_errors`` too, the errors are kept in
    DuckDB's storage, so memory does not grow with the error count."""
    started = time.perf_counter()
    header = check_header(labels, spec)
    fields = header.expected
    con = duckdb.connect(config={"threads": threads, **(config or {})})
    try:
        con.execute("SET TimeZone='UTC'")
        con.execute("SET enable_progress_bar=false")
        if any(f.format == "any" and f.type in ("date", "datetime", "time") for f in fields):
            _register_parse_any(con)
        if isinstance(cells, str):
            con.execute(f"CREATE TEMP VIEW cells AS {cells}")
        else:
            con.register("cells", cells)
        engine.create_errors(con, _error_queries(con, fields, spec, extra_cells, references or {}))
        rows = int(con.execute("SELECT count(*) FROM cells").fetchone()[0])  # type: ignore[index]
        order = "ORDER BY _row, field_number NULLS FIRST, check_order"
        columns = (f"_row AS rowNumber, field_number AS fieldNumber, field_name AS fieldName, type, cell, "
                   f"{MESSAGE} AS message")
        limit = max(0, MAX_ERRORS - len(header.errors))
        if keep_row_errors:  # the errors are computed once, into Arrow; the counts are read from there
            row_errors = con.execute(f"SELECT {columns} FROM errors {order}").to_arrow_table()
            con.register("listed", row_errors)
            counted = "SELECT type, fieldName AS field_name, rowNumber AS _row FROM listed"
        else:
            if stored_errors:  # in DuckDB's storage, which spills to disk when memory must stay bounded
                con.execute("CREATE TEMP TABLE errors_stored AS SELECT * FROM errors")
                con.execute("CREATE OR REPLACE TEMP VIEW errors AS SELECT * FROM errors_stored")
            # messages for the listed errors only
            row_errors = con.execute(
                f"SELECT {columns} FROM (SELECT * FROM errors {order} LIMIT {limit}) {order}").to_arrow_table()
            counted = "SELECT * FROM errors"
        grouped = con.execute(
            f"""SELECT type, field_name, count(*), min(_row, {FIRST_ROWS})
                FROM ({counted}) GROUP BY ALL ORDER BY count(*) DESC, type, field_name""").fetchall()
        total = len(header.errors) + sum(n for _, _, n, _ in grouped)
    finally:
        con.close()
    errors = header.errors + [ValidationError(**e) for e in row_errors.slice(0, limit).to_pylist()]
    counts = _header_counts(header.errors) + [
        ErrorCount(type=t, fieldName=f or None, count=n, firstRows=list(r)) for t, f, n, r in grouped]
    report = ValidationReport(
        valid=total == 0,
        stats={"rows": rows, "fields": len(spec.fields), "errors": total,
               "milliseconds": round((time.perf_counter() - started) * 1000)},
        errors=errors,
        counts=counts,
    )
    return TableCheck(report, row_errors) if keep_row_errors else TableCheck(report)


def _error_queries(con: duckdb.DuckDBPyConnection, fields: list[FieldSpec], spec: TableSpec,
                   extra_cells: list[tuple[int, int, str]] | None, references: Mapping[str, Reference]) -> list[str]:
    """A first pass keeps the rows that may hold an error (validation.suspects) and the full checks run on
    those; key checks compare every row's key values. Returns the queries whose rows are the errors."""
    suspects.find_suspects(con, fields)
    constraint_values = engine.parse_cells(con, fields, source="suspect", flagged=True)
    queries = engine.cell_errors(fields, constraint_values)
    keys = key_fields(fields, spec)
    if keys:
        suspects.key_values(con, fields, keys)
    queries += engine.unique_errors(con, fields, "keyed")
    if spec.primary_key and set(spec.primary_key) <= {f.name for f in fields}:
        queries += engine.primary_key_errors(con, fields, spec.primary_key, "keyed")
    queries += engine.foreign_key_errors(con, fields, spec, references, "keyed")
    if extra_cells:
        extras = pa.table({"r": [e[0] for e in extra_cells], "n": [e[1] for e in extra_cells],
                           "c": [e[2] for e in extra_cells]})
        con.register("extras", extras)
        queries.append("""SELECT r, n, '', 'extra-cell', c, '' FROM extras
                          WHERE r NOT IN (SELECT _row FROM parsed WHERE _blank)""")
    return queries


def key_fields(fields: list[FieldSpec], spec: TableSpec) -> set[int]:
    """The field numbers whose values are compared across rows: unique, primary and foreign keys."""
    names = {f.name for f in spec.fields if f.unique} | set(spec.primary_key)
    for fk in spec.foreign_keys:
        names |= set(fk.fields) | (set(fk.reference_fields) if fk.resource == "" else set())
    return {i for i, f in enumerate(fields, start=1) if f.name in names}


def _header_counts(errors: list[ValidationError]) -> list[ErrorCount]:
    counts: dict[tuple[str, str | None], int] = {}
    for e in errors:
        counts[(e.type, e.fieldName or None)] = counts.get((e.type, e.fieldName or None), 0) + 1
    return [ErrorCount(type=t, fieldName=f, count=n) for (t, f), n in counts.items()]


def _register_parse_any(con: duckdb.DuckDBPyConnection) -> None:
    """``format: any`` means dateutil's free-form parser; no SQL restates it, so it runs as a UDF."""
    from dateutil import parser

    def parse_any(value: str | None) -> Any:
        if value is None:  # null_handling="special" hands NULL cells to Python too
            return None
        try:
            parsed = parser.parse(value)
        except (ValueError, OverflowError):
            return None
        return parsed.replace(tzinfo=None) if parsed.tzinfo is None else parsed.astimezone(None).replace(
            tzinfo=None)

    con.create_function("opendata_parse_any", parse_any, ["VARCHAR"], "TIMESTAMP",  # type: ignore[call-overload]
                        null_handling="special")


def table_cells(table: pa.Table) -> pa.Table:
    """The engine's cell table for an in-memory table: every column as text, every row full width."""
    n = table.num_rows
    columns = [pa.compute.cast(table.column(i), pa.string()) for i in range(table.num_columns)]
    return pa.Table.from_arrays(
        [pa.array(np.arange(2, n + 2, dtype=np.int64)), pa.array(np.full(n, table.num_columns, dtype=np.int32)),
         *columns],
        names=["_row", "_width"] + [f"c{i}" for i in range(1, table.num_columns + 1)])


def check_table(table: pa.Table, table_schema: dict[str, Any], *,
                references: Mapping[str, Reference] | None = None, keep_row_errors: bool = True) -> TableCheck:
    try:
        spec = read_table_schema(table_schema)
    except SchemaInvalid as exc:
        return TableCheck(schema_error(str(exc), table.num_rows))
    return check_cells(list(table.column_names), table_cells(table), spec, references=references,
                       keep_row_errors=keep_row_errors)


def validate_table(table: pa.Table, table_schema: dict[str, Any], *,
                   references: Mapping[str, Reference] | None = None) -> ValidationReport:
    """Validate every row; the table's columns are text as the source gave them (nulls kept)."""
    return check_table(table, table_schema, references=references, keep_row_errors=False).report
