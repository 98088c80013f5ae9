"""Our DuckDB validator against frictionless's own: the same (row, field, type) errors on frictionless's
fixture files (tests/data/frictionless, see its NOTICE) and on generated dirty tables."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from tests.validation_fixtures import (
    FIXTURES,
    GENERATED_SCHEMA,
    frictionless_found,
    our_found,
    write_generated_table,
)
from validation import check_file, check_table
from validation.file_check import csv_reference

CSV_FIXTURES = sorted(p.name for p in FIXTURES.glob("*.csv"))


def test_the_fixture_set_is_there() -> None:
    assert len(CSV_FIXTURES) >= 90


@pytest.mark.parametrize("name", CSV_FIXTURES)
def test_a_frictionless_fixture_gives_the_same_errors_with_an_inferred_schema(name: str) -> None:
    path = FIXTURES / name
    assert our_found(check_file(path)) == frictionless_found(path)


def test_a_unique_field_with_its_schema() -> None:
    schema = json.loads((FIXTURES / "unique-field.json").read_text())
    path = FIXTURES / "unique-field.csv"
    found = our_found(check_file(path, schema))
    assert found == frictionless_found(path, schema)
    assert any(t == "unique-error" for _, _, t in found)


def test_a_foreign_key_to_another_table() -> None:
    package = json.loads((FIXTURES / "invalid" / "datapackage.json").read_text())
    schemas = {r["name"]: r["schema"] for r in package["resources"]}
    references = {"data": csv_reference(FIXTURES / "invalid" / "data.csv", schemas["data"])}
    ours = our_found(check_file(FIXTURES / "invalid" / "data2.csv", schemas["data2"], references=references))
    theirs = frictionless_found(FIXTURES / "invalid" / "data2.csv", package=FIXTURES / "invalid" / "datapackage.json",
                                resource="data2")
    assert ours == theirs


def test_a_broken_foreign_key_to_another_table(tmp_path: Path) -> None:
    (tmp_path / "stops.csv").write_text("stop_id,zone\n1,A\n2,B\n3,A\n")
    (tmp_path / "taps.csv").write_text("tap,stop_id,zone\n10,1,A\n11,4,A\n12,,\n13,2,A\n14,x,B\n")
    stops = {"fields": [{"name": "stop_id", "type": "integer"}, {"name": "zone", "type": "string"}]}
    taps = {"fields": [{"name": "tap", "type": "integer"}, {"name": "stop_id", "type": "integer"},
                       {"name": "zone", "type": "string"}],
            "foreignKeys": [{"fields": ["stop_id", "zone"], "reference": {"resource": "stops",
                                                                        "fields": ["stop_id", "zone"]}}]}
    package = {"name": "transit", "resources": [
        {"name": "stops", "path": "stops.csv", "schema": stops}, {"name": "taps", "path": "taps.csv", "schema": taps}]}
    (tmp_path / "datapackage.json").write_text(json.dumps(package))
    references = {"stops": csv_reference(tmp_path / "stops.csv", stops)}
    ours = our_found(check_file(tmp_path / "taps.csv", taps, references=references))
    assert ours == frictionless_found(tmp_path / "taps.csv", package=tmp_path / "datapackage.json", resource="taps")
    assert {(3, None, "foreign-key"), (5, None, "foreign-key")} <= ours


@pytest.mark.parametrize("seed", [1, 2])
def test_a_generated_dirty_table_gives_the_same_errors(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "generated.csv"
    write_generated_table(path, rows=1500, seed=seed)
    ours = our_found(check_file(path, GENERATED_SCHEMA))
    assert ours == frictionless_found(path, GENERATED_SCHEMA)
    kinds = {t for _, _, t in ours}
    assert {"type-error", "constraint-error", "missing-cell", "extra-cell", "blank-row", "unique-error",
            "primary-key"} <= kinds


def test_the_pipeline_entry_agrees_with_frictionless_on_inline_text(tmp_path: Path) -> None:
    path = tmp_path / "generated.csv"
    write_generated_table(path, rows=400, seed=7, bad_share=0.08)
    checked = check_file(path, GENERATED_SCHEMA)
    # the same rows as an in-memory text table (the runner's input): full-width rows only
    import csv

    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
    table = pa.table({name: [r[i] for r in body] for i, name in enumerate(header)})
    from frictionless import Resource, Schema

    inline = Resource(data=[header, *body], schema=Schema.from_descriptor(GENERATED_SCHEMA), format="inline")
    theirs = {(e.to_descriptor().get("rowNumber"), e.to_descriptor().get("fieldName"), e.type)
              for e in inline.validate(limit_errors=100_000).tasks[0].errors}
    assert our_found(check_table(table, GENERATED_SCHEMA)) == theirs
    assert checked.report.stats["errors"] > 0
