"""The validation stage inside a run: quarantine_rows, and schema drift between releases."""

from __future__ import annotations

import copy

import duckdb
import pyarrow.parquet as pq
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.store import open_catalog
from opendata.settings import Settings
from publishers.runner import run_job
from tests.conftest import PEOPLE_HEADER, PEOPLE_PRIVACY, PEOPLE_ROWS, PEOPLE_SCHEMA, JobWriter
from validation.quarantine import ERRORS_FILE, ROWS_FILE


def _bad_rows() -> list[list[str]]:
    rows = [list(r) for r in PEOPLE_ROWS]
    rows[2][0] = "three"        # type-error in row 4
    rows[3][2] = "streetlight"  # constraint-error (enum) in row 5
    return rows


def test_quarantine_rows_publishes_the_valid_rows_and_keeps_the_rest_private(
    settings: Settings, write_job: JobWriter
) -> None:
    result = run_job(write_job(rows=_bad_rows(), validation={"on_error": "quarantine_rows"}), settings)
    assert result.run.state == "succeeded" and result.release is not None
    assert result.release.rows == 2
    folder = settings.paths.releases / result.release.folder
    ids = duckdb.sql(f"SELECT request_id FROM read_parquet('{folder / 'data.parquet'}') ORDER BY 1").fetchall()
    assert ids == [(1,), (2,)]
    assert result.validation is not None and result.validation.valid
    assert result.validation.stats["quarantinedRows"] == 2

    kept = settings.paths.quarantine / "service-requests" / result.run.run_id
    assert kept.is_relative_to(settings.paths.private)
    invalid = pq.read_table(kept / ROWS_FILE).to_pylist()
    assert [(r["rowNumber"], r["request_id"], r["category"]) for r in invalid] == [
        (4, "three", "graffiti"), (5, "4", "streetlight")]
    errors = (kept / ERRORS_FILE).read_text()
    assert "type-error" in errors and "constraint-error" in errors

    client = TestClient(create_app(settings))
    page = client.get("/datasets/service-requests/releases/1/validation")
    assert page.status_code == 200 and "rows kept back in quarantine" in page.text
    report = client.get("/api/v1/datasets/service-requests/releases/1/validation-report").json()
    assert report["stats"]["quarantinedRows"] == 2 and "three" not in str(report)


def test_by_default_an_invalid_row_quarantines_the_whole_release(settings: Settings, write_job: JobWriter) -> None:
    result = run_job(write_job(rows=_bad_rows()), settings)
    assert result.run.state == "quarantined" and result.release is None


def test_a_label_error_cannot_be_split_off_and_quarantines_the_release(
    settings: Settings, write_job: JobWriter
) -> None:
    schema = copy.deepcopy(PEOPLE_SCHEMA)
    schema["fields"][2]["name"] = "kind"  # the source calls it category: incorrect-label
    result = run_job(write_job(schema=schema, validation={"on_error": "quarantine_rows"}), settings)
    assert result.run.state == "quarantined"
    assert result.validation is not None
    assert [e.type for e in result.validation.errors] == ["incorrect-label"]


def _with_priority(rows: list[list[str]]) -> list[list[str]]:
    return [r + [p] for r, p in zip(rows, ["low", "high", "low", "high"], strict=True)]


def test_an_added_source_column_blocks_until_allowed_and_covered(settings: Settings, write_job: JobWriter) -> None:
    first = run_job(write_job(), settings)
    assert first.release is not None
    with open_catalog(settings).database.connect() as db:
        recorded = db.execute("SELECT columns FROM source_columns WHERE run_id = ?", (first.run.run_id,)).fetchone()
    assert recorded is not None and "contact_email" in recorded[0]

    header = PEOPLE_HEADER + ["priority"]
    schema = copy.deepcopy(PEOPLE_SCHEMA)
    schema["fields"].append({"name": "priority", "type": "string"})
    blocked = run_job(write_job(header=header, rows=_with_priority(PEOPLE_ROWS), schema=schema), settings)
    assert blocked.run.state == "blocked" and blocked.release is None
    assert "schema drift" in (blocked.run.error or "") and "'priority'" in (blocked.run.error or "")
    assert "privacy.columns" in (blocked.run.error or "")

    allowed_only = run_job(write_job(header=header, rows=_with_priority(PEOPLE_ROWS), schema=schema,
                                     validation={"allow_schema_changes": ["added"]}), settings)
    assert allowed_only.run.state == "blocked"  # allowed, but the privacy policy does not name it yet

    privacy = copy.deepcopy(PEOPLE_PRIVACY)
    privacy["columns"]["priority"] = "keep"
    published = run_job(write_job(header=header, rows=_with_priority(PEOPLE_ROWS), schema=schema, privacy=privacy,
                                  validation={"allow_schema_changes": ["added"]}), settings)
    assert published.run.state == "succeeded" and published.release is not None


def test_a_retyped_source_column_blocks_the_release_unless_allowed(settings: Settings, write_job: JobWriter) -> None:
    assert run_job(write_job(), settings).release is not None
    schema = copy.deepcopy(PEOPLE_SCHEMA)
    schema["fields"][0] = {"name": "request_id", "type": "string"}  # the agency's ids became text
    result = run_job(write_job(schema=schema), settings)
    assert result.run.state == "blocked"
    assert "'request_id' changed from integer to string" in (result.run.error or "")
    drift = (settings.paths.blocked / "service-requests" / result.run.run_id / "schema-drift.json").read_text()
    assert '"retyped"' in drift
    allowed = run_job(write_job(schema=schema, validation={"allow_schema_changes": ["retyped"]}), settings)
    assert allowed.run.state == "succeeded"
