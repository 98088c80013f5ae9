"""Validate a CSV file: the header's label errors, blank rows, missing and extra cells, then every check
of the table. Without a schema, one is inferred from the first rows as frictionless does."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from opendata.errors import SchemaInvalid
from validation.csv_cells import read_csv_cells
from validation.engine import Reference
from validation.infer import infer_schema
from validation.report import ValidationError, ValidationReport
from validation.schema_spec import read_table_schema
from validation.table_check import TableCheck, check_cells, schema_error


def check_file(path: str | Path, table_schema: dict[str, Any] | None = None, *, encoding: str = "utf-8",
               references: Mapping[str, Reference] | None = None, keep_row_errors: bool = True) -> TableCheck:
    csv_cells = read_csv_cells(Path(path), encoding)
    if not csv_cells.labels and csv_cells.table.num_rows == 0:
        return TableCheck(ValidationReport(valid=False, stats={"rows": 0, "fields": 0, "errors": 1}, errors=[
            ValidationError(type="source-error", message="The data source has not supported or has "
                            "inconsistent contents: the source is empty")]))
    if table_schema is None:
        table_schema = infer_schema(csv_cells.labels, csv_cells.table)
    try:
        spec = read_table_schema(table_schema)
    except SchemaInvalid as exc:
        return TableCheck(schema_error(str(exc), csv_cells.table.num_rows))
    return check_cells(csv_cells.labels, csv_cells.table, spec, extra_cells=csv_cells.extra_cells,
                       references=references, keep_row_errors=keep_row_errors)


def validate_file(path: str | Path, table_schema: dict[str, Any] | None = None, *, encoding: str = "utf-8",
                  references: Mapping[str, Reference] | None = None) -> ValidationReport:
    """The report only: every error counted, the first 1,000 listed (``check_file`` also returns them all)."""
    return check_file(path, table_schema, encoding=encoding, references=references, keep_row_errors=False).report


def csv_reference(path: str | Path, table_schema: dict[str, Any], *, encoding: str = "utf-8") -> Reference:
    """Another CSV table that a foreign key points to, read as text and typed by its own schema."""
    csv_cells = read_csv_cells(Path(path), encoding)
    columns = {label: csv_cells.table.column(f"c{i}") for i, label in enumerate(csv_cells.labels, start=1)}
    return Reference(pa.table(columns), table_schema)
