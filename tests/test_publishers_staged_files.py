"""The run's file-based steps after anonymisation: the typed release written by DuckDB from a staged file,
quarantined rows split off chunk by chunk, and a whole run under a tiny DuckDB memory limit."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from catalog.store import Catalog
from catalog.typed_table import write_typed_parquet, write_typed_parquet_file
from opendata.settings import Settings
from publishers.runner import run_job
from publishers.validate_staged import split_rows
from tests.anonymize_fixtures import text_table
from tests.publishers_fixtures import write_source_job

SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer"}, {"name": "seen", "type": "datetime"}, {"name": "level", "type": "number"},
        {"name": "ok", "type": "boolean"}, {"name": "zone", "type": "string"},
    ],
    "primaryKey": ["id"],
    "missingValues": ["", "NA"],
}


def test_the_typed_release_from_a_staged_file_equals_the_one_from_a_table(tmp_path: Path) -> None:
    table = text_table({
        "id": ["3", "1", "2", "5", "4"],
        "seen": ["2024-05-01T10:00:00Z", "2024-05-01T12:30:00+02:00", "NA", "2024-01-01T00:00:00", ""],
        "level": ["1.5", "NA", "-2", "1e3", "0"],
        "ok": ["true", "0", "", "False", "1"],
        "zone": ["b", "a", None, "NA", "c"],
    })
    staged = tmp_path / "anonymized.parquet"
    pq.write_table(table, staged, row_group_size=2)
    from_table = write_typed_parquet(table, SCHEMA, tmp_path / "from-table.parquet")
    from_file = write_typed_parquet_file(staged, SCHEMA, tmp_path / "from-file.parquet", spill=tmp_path)
    assert from_table == from_file == 5
    a, b = pq.read_table(tmp_path / "from-table.parquet"), pq.read_table(tmp_path / "from-file.parquet")
    assert a.equals(b) and a.column("id").to_pylist() == [1, 2, 3, 4, 5]
    assert not list(tmp_path.glob(".publish-spill-*")), "the spill folder is removed"


def test_quarantined_rows_are_split_off_across_chunk_boundaries(tmp_path: Path) -> None:
    source = tmp_path / "anonymized.parquet"
    pq.write_table(pa.table({"id": [str(i) for i in range(10)]}), source)
    # frictionless row numbers: table row n is row n + 2 (the header is row 1)
    written = split_rows(source, [2, 6, 6, 11], tmp_path / "valid.parquet", tmp_path / "invalid.parquet", chunk_rows=3)
    assert written == 3
    assert pq.read_table(tmp_path / "valid.parquet").column("id").to_pylist() == ["1", "2", "3", "5", "6", "7", "8"]
    invalid = pq.read_table(tmp_path / "invalid.parquet").to_pylist()
    assert invalid == [{"rowNumber": 2, "id": "0"}, {"rowNumber": 6, "id": "4"}, {"rowNumber": 11, "id": "9"}]


def test_a_run_under_a_tiny_memory_limit_publishes_the_same_rows(tmp_path: Path) -> None:
    rows = 120_000
    lines = ["id,zone,age,level"] + [f"{i},Z{i % 40},{20 + i % 50},{i % 997}" for i in range(rows)]
    lines.append(f"{rows},RARE,99,1")  # a class of one: suppressed by k
    (tmp_path / "rows.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    fields = [{"name": "id", "type": "integer"}, {"name": "zone", "type": "string"},
              {"name": "age", "type": "string"}, {"name": "level", "type": "integer"}]
    privacy = {"columns": {"id": "keep", "zone": "keep", "level": "keep", "age": {"generalize": "bins", "width": 10}},
               "quasi_identifiers": ["zone", "age"], "k": 5}
    job = write_source_job(tmp_path, "spilled", {"type": "csv", "path": "rows.csv"}, fields, primaryKey=["id"],
                           privacy=privacy)
    results = {}
    for limit in ("24MB", "256MB"):
        settings = Settings(home=tmp_path / f"home-{limit}", run_memory_limit=limit)
        result = run_job(job, settings)
        assert result.run.state == "succeeded", result.run.error
        assert result.privacy is not None and result.privacy.risk is not None
        assert result.privacy.risk.suppressed_records == 1
        release = Catalog(settings.paths.catalog_db).release("spilled")
        data = settings.paths.releases / release.folder / "data.parquet"
        query = f"SELECT count(*), sum(id), min(id), max(id) FROM read_parquet('{data}')"
        results[limit] = duckdb.sql(query).fetchone()
        assert not [p for p in settings.paths.staging.rglob("*") if p.is_file()], "spill files removed too"
    assert results["24MB"] == results["256MB"] == (rows, sum(range(rows)), 0, rows - 1)
