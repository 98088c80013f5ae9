"""The one JSON lines reader, shared by the jsonlines connector (text, json) and procurement (bytes, orjson):
line numbers, blank lines skipped, bad lines handed back with their number, nothing dropped silently."""

from __future__ import annotations

import io
import json
from pathlib import Path

import orjson
import pytest

from opendata.errors import SourceError
from procurement.findings import Findings
from procurement.lines import read_lines
from publishers.sources.json_lines import BadLine, json_objects
from tests.publishers_fixtures import read_all, write_source_job

LINES = '{"a": 1}\n\n{nope\n[1]\n{"b": "é"}\n'


def test_text_and_bytes_give_the_same_lines() -> None:
    text = list(json_objects(io.StringIO(LINES), json.loads))
    raw = list(json_objects(io.BytesIO(LINES.encode()), orjson.loads))
    for found in (text, raw):
        assert [n for n, _ in found] == [1, 3, 4, 5]
        assert found[0][1] == {"a": 1} and found[3][1] == {"b": "é"}
        assert isinstance(found[1][1], BadLine) and found[1][1].error is not None
        assert isinstance(found[2][1], BadLine) and found[2][1].error is None
    assert [n for n, _ in json_objects(io.StringIO(LINES), json.loads, first=10)] == [10, 12, 13, 14]


def test_procurement_keeps_going_and_the_connector_refuses(tmp_path: Path) -> None:
    findings = Findings()
    kept = list(read_lines(io.BytesIO(LINES.encode()), findings))
    assert [n for n, _ in kept] == [1, 5] and findings.counts["malformed-line"] == 2
    assert [f.line for f in findings.kept] == [3, 4]
    (tmp_path / "data.jsonl").write_text("\ufeff" + LINES, encoding="utf-8")
    job = write_source_job(tmp_path, "lines", {"type": "jsonl", "path": "data.jsonl"},
                           [{"name": "a", "type": "integer"}, {"name": "b", "type": "string"}])
    with pytest.raises(SourceError, match="line 3 is not JSON"):
        read_all(job)
