"""validate_parquet: the anonymised table as a Parquet file, scanned by DuckDB, reports what validate_table does."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from opendata.errors import ValidationInputError
from tests.validation_fixtures import GENERATED_SCHEMA, write_generated_table
from validation import ValidationReport, check_parquet, check_table, validate_parquet, validate_table


def _text_table(folder: Path, rows: int, seed: int) -> pa.Table:
    """The generated dirty table as rectangular text columns (what anonymise writes), with some nulls."""
    source = folder / "generated.csv"
    write_generated_table(source, rows, seed=seed)
    with open(source, newline="", encoding="utf-8") as handle:
        header, *body = list(csv.reader(handle))
    width = len(header)
    columns: list[list[str | None]] = [[] for _ in header]
    for n, row in enumerate(body):
        row = (row + [""] * width)[:width]
        for i, cell in enumerate(row):
            columns[i].append(None if n % 97 == 5 and i % 3 == 0 else cell)
    return pa.table({name: pa.array(values, pa.string()) for name, values in zip(header, columns, strict=True)})


def _without_time(report: ValidationReport) -> dict:
    dumped = report.model_dump(mode="json")
    dumped["stats"].pop("milliseconds", None)
    return dumped


def test_a_parquet_file_gets_the_same_report_as_the_table_in_memory(tmp_path: Path) -> None:
    table = _text_table(tmp_path, 3000, seed=7)
    path = tmp_path / "anonymised.parquet"
    pq.write_table(table, path, row_group_size=700)  # several row groups: row numbers must follow the file

    from_file = validate_parquet(path, GENERATED_SCHEMA)
    in_memory = validate_table(table, GENERATED_SCHEMA)

    assert not from_file.valid and from_file.stats["rows"] == 3000
    assert {e.type for e in from_file.errors} >= {"type-error", "constraint-error", "primary-key", "unique-error"}
    assert _without_time(from_file) == _without_time(in_memory)
    assert check_parquet(path, GENERATED_SCHEMA).row_errors.equals(check_table(table, GENERATED_SCHEMA).row_errors)
    assert [p.name for p in tmp_path.iterdir()] == [p.name for p in tmp_path.iterdir() if "spill" not in p.name]


def test_a_valid_parquet_file_is_valid_and_a_label_error_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "ok.parquet"
    pq.write_table(pa.table({"id": ["1", "2"], "name": ["Ana", None]}), path)
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "name", "type": "string"}]}
    assert validate_parquet(path, schema).valid

    renamed = {"fields": [{"name": "id", "type": "integer"}, {"name": "label", "type": "string"}]}
    report = validate_parquet(path, renamed)
    assert [e.type for e in report.errors] == ["incorrect-label"]


def test_a_large_file_validates_under_a_small_memory_limit(tmp_path: Path) -> None:
    n = 300_000
    table = pa.table({"id": pa.array([str(i) for i in range(n)]),
                      "note": pa.array([f"note number {i} " * 3 for i in range(n)])})
    path = tmp_path / "big.parquet"
    pq.write_table(table, path)
    schema = {"fields": [{"name": "id", "type": "integer", "constraints": {"unique": True}},
                         {"name": "note", "type": "string", "constraints": {"maxLength": 50}}]}
    report = validate_parquet(path, schema, memory_limit="64MB")
    assert report.stats["rows"] == n
    assert report.stats["errors"] == sum(1 for i in range(n) if len(f"note number {i} " * 3) > 50)


def test_a_file_that_is_not_parquet_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "not.parquet"
    path.write_text("id\n1\n")
    with pytest.raises(ValidationInputError, match="cannot be read as Parquet"):
        validate_parquet(path, {"fields": [{"name": "id"}]})
