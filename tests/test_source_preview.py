"""`opendata source preview JOB.yaml` and `opendata schema infer JOB.yaml` on sources that are not CSV
files: a SQLite table, the NWS alerts GeoJSON over HTTP."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from opendata.cli import main
from opendata.settings import Settings
from tests import publishers_fixtures
from tests.publishers_fixtures import DATA, LocalHttp, write_source_job

local_http = publishers_fixtures.local_http


def _sqlite_job(tmp_path: Path) -> Path:
    db = tmp_path / "permits.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE permits (id INTEGER, issued TEXT, fee REAL, kind TEXT)")
        con.executemany("INSERT INTO permits VALUES (?, ?, ?, ?)",
                        [(i, f"2024-02-{i % 28 + 1:02d}", i * 1.5, ["sign", "awning"][i % 2]) for i in range(1, 301)])
    source = {"type": "sql", "url": "sqlite:///permits.db", "table": "permits"}
    return write_source_job(tmp_path, "permits", source, [{"name": "id", "type": "any"}])


def test_preview_prints_the_first_rows_and_inferred_types_of_a_database_table(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    job = _sqlite_job(tmp_path)
    assert main(["--home", str(settings.home), "source", "preview", str(job), "--rows", "3", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["columns"] == {"id": "integer", "issued": "date", "fee": "number", "kind": "string"}
    assert [r["id"] for r in shown["rows"]] == ["1", "2", "3"] and shown["sampled"] == 300
    assert main(["--home", str(settings.home), "source", "preview", str(job), "--rows", "2"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split() == ["id", "issued", "fee", "kind"]
    assert "(2 rows shown; types inferred from 300 rows)" in text
    assert not any(settings.paths.staging.iterdir())  # nothing left in staging


def test_schema_infer_reads_the_source_a_job_names(tmp_path: Path, settings: Settings, local_http: LocalHttp) -> None:
    body = (DATA / "nws_api" / "alerts_active_zone_second.json").read_bytes()
    local_http.route("/alerts", lambda *_: (200, {"Content-Type": "application/geo+json"}, body))
    source = {"type": "http_json", "url": local_http.base + "/alerts", "records": "$.features[*]",
              "columns": {"event": "$.properties.event", "onset": "$.properties.onset",
                          "zones": "$.properties.geocode.UGC", "geometry": "$.geometry"}}
    job = write_source_job(tmp_path, "alerts", source, [{"name": "event", "type": "string"}])
    out = tmp_path / "alerts.schema.json"
    assert main(["--home", str(settings.home), "schema", "infer", str(job), "--output", str(out)]) == 0
    fields = {f["name"]: f["type"] for f in json.loads(out.read_text())["fields"]}
    assert fields == {"event": "string", "onset": "datetime", "zones": "array", "geometry": "any"}


def test_preview_of_a_source_that_is_down_is_a_clear_transient_error(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    source = {"type": "http_json", "url": "http://127.0.0.1:9/nothing", "timeout": 1}
    job = write_source_job(tmp_path, "down", source, [{"name": "x", "type": "string"}])
    assert main(["--home", str(settings.home), "source", "preview", str(job)]) == 3
    assert "did not answer" in capsys.readouterr().err
