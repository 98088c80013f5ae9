"""Validate a Parquet file of text columns (what the anonymise stage writes) without loading it into Python.

DuckDB scans the file itself: the cells relation is a view over ``read_parquet`` (row numbers from the
file's own row order, the header counted as row 1), the engine's passes run under a memory limit and
spill to a temporary folder beside the file, and only the errors come back to Python. The report is the
one ``validate_table`` gives for the same rows.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from opendata.errors import ConfigurationError, SchemaInvalid, ValidationInputError
from opendata.sql_text import quote_identifier, quote_literal
from validation.engine import Reference
from validation.report import ValidationReport
from validation.schema_spec import read_table_schema
from validation.table_check import TableCheck, check_cells, schema_error

MEMORY_LIMIT = "1GB"


def cells_query(path: Path, labels: list[str]) -> str:
    """The engine's ``cells(_row, _width, c1..cN)`` over the file: every column as text, every row full width."""
    columns = ", ".join(
        f"CAST({quote_identifier(label)} AS VARCHAR) AS c{i}" for i, label in enumerate(labels, start=1)
    )
    return (f"SELECT file_row_number + 2 AS _row, CAST({len(labels)} AS INTEGER) AS _width"
            f"{', ' + columns if columns else ''} "
            f"FROM read_parquet({quote_literal(str(path))}, file_row_number = true)")


def check_parquet(path: str | Path, table_schema: dict[str, Any], *,
                  references: Mapping[str, Reference] | None = None,
                  memory_limit: str = MEMORY_LIMIT, keep_row_errors: bool = True) -> TableCheck:
    """The report, and with ``keep_row_errors`` every row error as Arrow (memory grows with their count)."""
    path = Path(path)
    try:
        parquet_schema = pq.read_schema(path)
    except (OSError, ValueError) as exc:
        raise ValidationInputError(f"{path} cannot be read as Parquet: {exc}") from None
    labels = list(parquet_schema.names)
    try:
        spec = read_table_schema(table_schema)
    except SchemaInvalid as exc:
        return TableCheck(schema_error(str(exc), pq.ParquetFile(path).metadata.num_rows))
    spill = Path(tempfile.mkdtemp(prefix=".validation-spill-", dir=path.parent))
    try:
        return check_cells(labels, cells_query(path, labels), spec, references=references,
                           config={"memory_limit": memory_limit, "temp_directory": str(spill)},
                           keep_row_errors=keep_row_errors, stored_errors=True)
    except duckdb.OutOfMemoryException as exc:
        raise ConfigurationError(f"validating {path} needs more than memory_limit={memory_limit} allows "
                                 f"even when spilling to disk ({exc}); raise the limit") from None
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def validate_parquet(path: str | Path, table_schema: dict[str, Any], *,
                     references: Mapping[str, Reference] | None = None,
                     memory_limit: str = MEMORY_LIMIT) -> ValidationReport:
    """Validate every row of a Parquet file against its Table Schema, scanned by DuckDB under a memory limit."""
    return check_parquet(path, table_schema, references=references, memory_limit=memory_limit,
                         keep_row_errors=False).report
