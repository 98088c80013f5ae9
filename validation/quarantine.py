"""``validation.on_error: quarantine_rows``: publish the valid rows, keep the invalid ones privately.

Rows are split by the engine's row errors (row number n is table row n - 2: the header is row 1). Errors
that belong to no row (a label, the schema) cannot be split off, so they still quarantine the release.
The invalid rows and their errors go to ``HOME/private/quarantine/<dataset>/<run_id>/``, which stewards
read on disk or with ``opendata validate`` and which the public API cannot open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from validation.table_check import TableCheck

ROWS_FILE = "quarantined-rows.parquet"
ERRORS_FILE = "quarantined-errors.json"


@dataclass(frozen=True)
class RowSplit:
    valid: pa.Table
    invalid: pa.Table  # with a leading `rowNumber` column, frictionless's numbering
    errors: pa.Table


def can_split(check: TableCheck) -> bool:
    """Only when every error belongs to a row, and at least one row stays."""
    report = check.report
    row_level = sum(c.count for c in report.counts if c.type not in _TABLE_LEVEL)
    listed_without_row = any(e.rowNumber is None for e in report.errors)
    return (not listed_without_row and row_level == report.stats.get("errors", 0)
            and len(check.invalid_rows) < report.stats.get("rows", 0))


_TABLE_LEVEL = {"schema-error", "source-error", "blank-header", "extra-label", "missing-label", "blank-label",
                "duplicate-label", "incorrect-label"}


def split_rows(table: pa.Table, check: TableCheck) -> RowSplit:
    numbers = np.asarray(check.invalid_rows, dtype=np.int64)
    bad = np.zeros(table.num_rows, dtype=bool)
    bad[numbers - 2] = True
    mask = pa.array(bad)
    invalid = table.filter(mask)
    invalid = invalid.add_column(0, "rowNumber", pa.array(numbers, pa.int64()))
    return RowSplit(table.filter(pc.invert(mask)), invalid, check.row_errors)


def keep_invalid_rows(folder: Path, split: RowSplit) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(split.invalid, folder / ROWS_FILE, compression="zstd")
    (folder / ERRORS_FILE).write_text(json.dumps(split.errors.to_pylist(), indent=1, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
