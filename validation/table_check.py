"""Check an anonymised table against its Frictionless Table Schema.

This stage uses frictionless's own validator, so its meaning is frictionless's by construction.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from frictionless import Resource, Schema
from frictionless import errors as fl_errors

from validation.report import ValidationError, ValidationReport

MAX_ERRORS = 1000


def validate_table(table: pa.Table, table_schema: dict[str, Any]) -> ValidationReport:
    """Validate every row; the table's columns are text as the source gave them (nulls kept)."""
    try:
        schema = Schema.from_descriptor(table_schema)
    except fl_errors.FrictionlessException as exc:
        return ValidationReport(
            valid=False,
            stats={"rows": table.num_rows, "fields": 0, "errors": 1},
            errors=[ValidationError(type="schema-error", message=str(exc.error.message))],
        )
    header = list(table.column_names)
    rows: list[list[Any]] = [header]
    columns = [table.column(name).to_pylist() for name in header]
    rows.extend([list(values) for values in zip(*columns, strict=True)])
    resource = Resource(data=rows, schema=schema, format="inline")
    report = resource.validate(limit_errors=MAX_ERRORS)
    task = report.tasks[0]
    errors = [_error(e.to_descriptor()) for e in task.errors]
    return ValidationReport(
        valid=report.valid,
        stats={"rows": table.num_rows, "fields": len(schema.fields), "errors": len(errors)},
        errors=errors,
    )


def _error(descriptor: dict[str, Any]) -> ValidationError:
    return ValidationError(
        type=descriptor["type"],
        rowNumber=descriptor.get("rowNumber"),
        fieldNumber=descriptor.get("fieldNumber"),
        fieldName=descriptor.get("fieldName"),
        cell=descriptor.get("cell"),
        message=descriptor.get("message", descriptor.get("title", "")),
    )
