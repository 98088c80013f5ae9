"""Check a table against its Frictionless Table Schema with DuckDB, reporting what frictionless reports.

``validate_table`` is the pipeline's entry (an anonymised Arrow table of text columns); ``check_cells``
is the shared core that ``validate_file`` also uses. Errors keep frictionless's types and numbering.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from opendata.errors import SchemaInvalid
from validation import engine
from validation.engine import Reference
from validation.header import check_header
from validation.report import ErrorCount, ValidationError, ValidationReport
from validation.schema_spec import TableSpec, read_table_schema

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


def check_cells(labels: list[str], cells: pa.Table, spec: TableSpec, *,
                extra_cells: list[tuple[int, int, str]] | None = None,
                references: Mapping[str, Reference] | None = None, threads: int = 2) -> TableCheck:
    """``cells`` has ``_row, _width, c1..cN`` with one text column per label (see validation.engine)."""
    started = time.perf_counter()
    header = check_header(labels, spec)
    fields = header.expected
    con = duckdb.connect(config={"threads": threads})
    try:
        con.execute("SET TimeZone='UTC'")
        con.execute("SET enable_progress_bar=false")
        if any(f.format == "any" and f.type in ("date", "datetime", "time") for f in fields):
            _register_parse_any(con)
        con.register("cells", cells)
        con.execute(engine.ERRORS_DDL)
        constraint_values = engine.parse_cells(con, fields)
        engine.cell_errors(con, fields, constraint_values)
        engine.unique_errors(con, fields)
        names = {f.name for f in fields}
        if spec.primary_key and set(spec.primary_key) <= names:
            engine.primary_key_errors(con, fields, spec.primary_key)
        engine.foreign_key_errors(con, fields, spec, references or {})
        if extra_cells:
            extras = pa.table({"r": [e[0] for e in extra_cells], "n": [e[1] for e in extra_cells],
                               "c": [e[2] for e in extra_cells]})
            con.register("extras", extras)
            con.execute("""INSERT INTO errors SELECT r, n, '', 'extra-cell', c, '' FROM extras
                           WHERE r NOT IN (SELECT _row FROM parsed WHERE _blank)""")
        row_errors = con.execute(
            f"""SELECT _row AS rowNumber, field_number AS fieldNumber, field_name AS fieldName, type, cell,
                       {MESSAGE} AS message
                FROM errors ORDER BY _row, field_number NULLS FIRST, type""").to_arrow_table()
        rows = int(con.execute("SELECT count(*) FROM cells").fetchone()[0])  # type: ignore[index]
        grouped = con.execute(
            f"""SELECT type, field_name, count(*), list(_row ORDER BY _row)[1:{FIRST_ROWS}]
                FROM errors GROUP BY ALL ORDER BY count(*) DESC, type, field_name""").fetchall()
    finally:
        con.close()
    listed = row_errors.slice(0, max(0, MAX_ERRORS - len(header.errors))).to_pylist()
    errors = header.errors + [ValidationError(**e) for e in listed]
    counts = _header_counts(header.errors) + [
        ErrorCount(type=t, fieldName=f or None, count=n, firstRows=list(r)) for t, f, n, r in grouped]
    total = len(header.errors) + row_errors.num_rows
    report = ValidationReport(
        valid=total == 0,
        stats={"rows": rows, "fields": len(spec.fields), "errors": total,
               "milliseconds": round((time.perf_counter() - started) * 1000)},
        errors=errors,
        counts=counts,
    )
    return TableCheck(report, row_errors)


def _header_counts(errors: list[ValidationError]) -> list[ErrorCount]:
    counts: dict[tuple[str, str | None], int] = {}
    for e in errors:
        counts[(e.type, e.fieldName or None)] = counts.get((e.type, e.fieldName or None), 0) + 1
    return [ErrorCount(type=t, fieldName=f, count=n) for (t, f), n in counts.items()]


def _register_parse_any(con: duckdb.DuckDBPyConnection) -> None:
    """``format: any`` means dateutil's free-form parser; no SQL restates it, so it runs as a UDF."""
    from dateutil import parser

    def parse_any(value: str) -> Any:
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
        [pa.array(range(2, n + 2), pa.int64()), pa.array([table.num_columns] * n, pa.int32()), *columns],
        names=["_row", "_width"] + [f"c{i}" for i in range(1, table.num_columns + 1)])


def check_table(table: pa.Table, table_schema: dict[str, Any], *,
                references: Mapping[str, Reference] | None = None) -> TableCheck:
    try:
        spec = read_table_schema(table_schema)
    except SchemaInvalid as exc:
        return TableCheck(schema_error(str(exc), table.num_rows))
    return check_cells(list(table.column_names), table_cells(table), spec, references=references)


def validate_table(table: pa.Table, table_schema: dict[str, Any], *,
                   references: Mapping[str, Reference] | None = None) -> ValidationReport:
    """Validate every row; the table's columns are text as the source gave them (nulls kept)."""
    return check_table(table, table_schema, references=references).report
