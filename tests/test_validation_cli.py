"""``opendata validate`` and ``opendata schema infer`` on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opendata.cli import main
from tests.validation_fixtures import FIXTURES
from validation import validate_file


def test_validate_prints_the_report_and_exits_1_when_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(FIXTURES / "invalid.csv"), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"valid", "stats", "errors"} and report["valid"] is False
    first = report["errors"][0]
    assert set(first) == {"type", "rowNumber", "fieldNumber", "fieldName", "cell", "message"}
    assert ("blank-label", None, 3) == (first["type"], first["rowNumber"], first["fieldNumber"])
    assert {"type": "extra-cell", "rowNumber": 5} .items() <= report["errors"][-1].items()


def test_validate_exits_0_on_a_valid_file_with_a_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"fields": [{"name": "id", "type": "integer"}, {"name": "name", "type": "string"}]}))
    assert main(["validate", str(FIXTURES / "table.csv"), "--schema", str(schema)]) == 0
    assert capsys.readouterr().out.startswith("valid: 2 rows")


def test_validate_refuses_a_missing_file_or_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.csv")]) == 2
    assert main(["validate", str(FIXTURES / "table.csv"), "--schema", str(tmp_path / "nope.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_schema_infer_writes_a_starting_schema_that_validates_its_source(tmp_path: Path) -> None:
    source = tmp_path / "stops.csv"
    lines = ["stop_id,zone,opened,lat,note"] + [
        f"{i},{'ABC'[i % 3]},2024-01-{i % 28 + 1:02d},{40 + i / 100},{'' if i % 5 else 'x'}" for i in range(60)]
    source.write_text("\n".join(lines) + "\n")
    target = tmp_path / "stops.schema.json"
    assert main(["schema", "infer", str(source), "--output", str(target)]) == 0
    schema = json.loads(target.read_text())
    fields = {f["name"]: f for f in schema["fields"]}
    assert [fields[n]["type"] for n in ("stop_id", "zone", "opened", "lat")] == ["integer", "string", "date", "number"]
    assert fields["stop_id"]["constraints"] == {"required": True}
    assert fields["zone"]["constraints"]["enum"] == ["A", "B", "C"]
    assert "required" not in fields["note"].get("constraints", {})
    assert validate_file(source, schema).valid
