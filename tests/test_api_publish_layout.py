"""Releases are laid out for the API at publish time: sorted by `publish.sort_by` (default: primaryKey)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from catalog.typed_table import sort_columns, write_typed_parquet
from opendata.errors import JobFileError
from publishers.job import load_job
from tests.conftest import PEOPLE_SCHEMA, JobWriter

SCHEMA = {"fields": [{"name": "id", "type": "integer"}, {"name": "route", "type": "string"}], "primaryKey": ["id"]}


def test_rows_are_sorted_by_typed_values(tmp_path: Path) -> None:
    table = pa.table({"id": ["10", "9", "100", "2", ""], "route": ["b", "a", "b", "a", "c"]})
    target = tmp_path / "data.parquet"
    write_typed_parquet(table, {**SCHEMA, "missingValues": [""]}, target)
    assert duckdb.sql(f"SELECT id FROM '{target}'").fetchall() == [(2,), (9,), (10,), (100,), (None,)]
    write_typed_parquet(table, {**SCHEMA, "missingValues": [""]}, target, ["route", "id"])
    assert duckdb.sql(f"SELECT route, id FROM '{target}'").fetchall() == [
        ("a", 2), ("a", 9), ("b", 10), ("b", 100), ("c", None)
    ]


def test_sort_columns_default_to_the_primary_key() -> None:
    assert sort_columns(SCHEMA, None) == ["id"]
    assert sort_columns({**SCHEMA, "primaryKey": "id"}, []) == ["id"]
    assert sort_columns({"fields": SCHEMA["fields"]}, None) == []
    assert sort_columns(SCHEMA, ["route"]) == ["route"]


def test_sorted_releases_let_row_group_statistics_skip(tmp_path: Path) -> None:
    rows = 200_000
    table = pa.table({"id": [str(i) for i in range(rows)], "route": [f"R{i * 7919 % 100:03d}" for i in range(rows)]})
    target = tmp_path / "data.parquet"
    write_typed_parquet(table, SCHEMA, target, ["route"])
    stats = duckdb.sql(
        f"SELECT row_group_id, stats_min_value, stats_max_value FROM parquet_metadata('{target}') "
        "WHERE path_in_schema = 'route'"
    ).fetchall()
    matching = [r for r in stats if r[1] <= "R042" <= r[2]]
    assert len(stats) >= 2 and len(matching) == 1  # a route=R042 filter reads one row group


def test_job_files_take_a_publish_section(write_job: JobWriter) -> None:
    job = load_job(write_job(publish={"sort_by": ["category", "request_id"]}))
    assert job.publish.sort_by == ["category", "request_id"]
    assert load_job(write_job(name="plain")).publish.sort_by == []
    with pytest.raises(JobFileError, match="publish.sort_by: 'colour'"):
        load_job(write_job(name="bad", publish={"sort_by": ["colour"]}))
    assert PEOPLE_SCHEMA["primaryKey"] == ["request_id"]
