"""Table Schema v1 and v2 descriptors, and the checks frictionless's fixtures do not reach."""

from __future__ import annotations

import pyarrow as pa
import pytest

from validation import validate_table
from validation.schema_spec import read_table_schema


def _found(table: dict[str, list[str | None]], schema: dict) -> set[tuple[int | None, str | None, str]]:
    report = validate_table(pa.table(table), schema)
    return {(e.rowNumber, e.fieldName, e.type) for e in report.errors}


def test_v2_missing_values_objects_and_a_string_primary_key() -> None:
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "score", "type": "number"}],
              "missingValues": [{"value": "-99", "label": "refused"}, ""], "primaryKey": "id"}
    spec = read_table_schema(schema)
    assert spec.primary_key == ("id",) and spec.missing_values == ("-99", "")
    found = _found({"id": ["1", "1", "-99"], "score": ["-99", "2.5", "x"]}, schema)
    assert found == {(3, None, "primary-key"), (4, "score", "type-error"), (4, None, "primary-key")}


def test_exclusive_bounds_list_type_and_field_missing_values() -> None:
    schema = {"fields": [
        {"name": "pct", "type": "number", "constraints": {"exclusiveMinimum": 0, "exclusiveMaximum": 100}},
        {"name": "tags", "type": "list", "delimiter": ";", "itemType": "integer", "constraints": {"maxLength": 2}},
        {"name": "code", "type": "string", "missingValues": ["n/a"], "constraints": {"required": True}},
    ]}
    found = _found({"pct": ["0", "50", "100"], "tags": ["1;2", "1;2;3", "1;x"], "code": ["a", "n/a", ""]}, schema)
    assert found == {(2, "pct", "constraint-error"), (4, "pct", "constraint-error"), (3, "tags", "constraint-error"),
                     (4, "tags", "type-error"), (3, "code", "constraint-error")}


def test_fields_match_by_name_tolerates_reordered_columns() -> None:
    schema = {"fieldsMatch": "equal", "fields": [{"name": "a", "type": "integer"}, {"name": "b", "type": "string"}]}
    assert _found({"b": ["x"], "a": ["1"]}, schema) == set()
    assert _found({"b": ["x"], "a": ["one"]}, schema) == {(2, "a", "type-error")}


def test_pattern_is_anchored_as_frictionless_anchors_it() -> None:
    # frictionless matches "^{pattern}$" from the start: "a|b" accepts "a..." but not "...b" unless whole
    schema = {"fields": [{"name": "v", "type": "string", "constraints": {"pattern": "a|b"}}]}
    assert _found({"v": ["a", "axe", "b", "xb"]}, schema) == {(5, "v", "constraint-error")}


@pytest.mark.parametrize("descriptor", [{"fields": "x"}, {"fields": [{"name": "a", "type": "money"}]},
                                        {"fields": [{"name": "a"}], "primaryKey": ["b"]}])
def test_a_schema_that_cannot_be_read_is_a_schema_error(descriptor: dict) -> None:
    report = validate_table(pa.table({"a": ["1"]}), descriptor)
    assert not report.valid and [e.type for e in report.errors] == ["schema-error"]
