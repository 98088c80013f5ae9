"""CSV downloads by RFC 4180 (CRLF records; CR, LF, quotes and commas inside a field quoted), read back by
pandas and Python's csv module, and spreadsheet formulas neutralised unless ``escape_formulas=false``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from tests.api_fixtures import ApiHome, build_home

NOTES_SCHEMA = {"fields": [{"name": "id", "type": "integer"}, {"name": "note", "type": "string"},
                           {"name": "delta", "type": "number"}]}
TRICKY = ["bare\rcarriage return", "line\nfeed", "both\r\nat once", 'a "quoted" word', "comma, inside", "",
          "trailing CR\r", None]
FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "=HYPERLINK(\"x\")"]
ROWS = 999
EXPORT = "/api/v1/datasets/notes/export.csv"
PAGE = "/api/v1/datasets/notes/rows?format=csv&limit=999"


def notes() -> list[str | None]:
    cells = TRICKY + FORMULAS + ["plain"]
    return [cells[i % len(cells)] for i in range(ROWS)]


@pytest.fixture
def home(tmp_path: Path) -> ApiHome:
    home = build_home(tmp_path)
    home.add_dataset("notes")
    table = pa.table({"id": list(range(1, ROWS + 1)), "note": notes(),
                      "delta": [-1.5 if i % 2 else 2.0 for i in range(ROWS)]})
    home.publish(table, dataset="notes", schema=NOTES_SCHEMA)
    return home


@pytest.mark.parametrize("path", [EXPORT, PAGE])
def test_every_row_reads_back_whole(home: ApiHome, path: str) -> None:
    body = home.client().get(path + ("&" if "?" in path else "?") + "escape_formulas=false").content
    frame = pd.read_csv(io.BytesIO(body), keep_default_na=False)
    assert len(frame) == ROWS  # a bare CR used to split rows: pandas read 1,011 rows from this export
    records = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert len(records) == ROWS + 1 and all(len(r) == 3 for r in records)
    assert [r[1] for r in records[1:]] == [cell or "" for cell in notes()]  # exact values, formulas kept
    assert body.count(b"\r\n") >= ROWS + 1  # CRLF record ends


@pytest.mark.parametrize("path", [EXPORT, PAGE])
def test_formulas_are_neutralised_by_default(home: ApiHome, path: str) -> None:
    records = list(csv.DictReader(io.StringIO(home.client().get(path).text, newline="")))
    assert len(records) == ROWS
    shown = {r["note"] for r in records}
    for formula in FORMULAS:
        assert "'" + formula in shown and formula not in shown, formula
    assert "plain" in shown and "bare\rcarriage return" in shown
    assert {r["delta"] for r in records} == {"-1.5", "2.0"}  # numbers stay numbers, minus sign and all


def test_the_downloads_point_at_the_whole_release(home: ApiHome) -> None:
    client = home.client()
    page = client.get("/datasets/notes").text
    assert "/api/v1/datasets/notes/export.csv?release=1" in page and "format=csv" not in page
    export = client.get("/api/v1/datasets/notes/export.csv?release=1")
    assert export.status_code == 200 and len(pd.read_csv(io.BytesIO(export.content))) == ROWS
