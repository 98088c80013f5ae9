"""The same source makes no new numbered release: a run whose data, schema and policy equal the latest release
is recorded ``unchanged`` (publish.when_unchanged), seen in the CLI, the runs API and the runs page."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.store import open_catalog
from opendata.cli import main
from opendata.settings import Settings
from publishers.job import PublishOptions
from publishers.runner import run_job
from publishers.unchanged import data_digest
from tests.conftest import PEOPLE_HEADER, PEOPLE_PRIVACY, PEOPLE_ROWS, REPO, JobWriter


def _rewrite_rows(job: Path, rows: list[list[str]]) -> None:
    with open(job.parent / "data" / "rows.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PEOPLE_HEADER)
        writer.writerows(rows)


def _edit_job(job: Path, **changes: object) -> None:
    document = yaml.safe_load(job.read_text())
    document.update(changes)
    job.write_text(yaml.safe_dump(document, sort_keys=False))


def _numbers(settings: Settings) -> list[int]:
    return [r.number for r in open_catalog(settings).releases("service-requests", published_only=False)]


def test_the_same_source_twice_is_unchanged_and_publishes_nothing(settings: Settings, write_job: JobWriter) -> None:
    job = write_job()
    first = run_job(job, settings)
    assert first.release is not None and first.release.number == 1
    assert "fingerprint.json" in first.release.files
    again = run_job(job, settings)
    assert again.ok and again.run.state == "unchanged" and again.release is None
    assert again.run.release == 1 and again.run.rows_out == 0 and again.run.error is None
    assert _numbers(settings) == [1]
    assert not any((settings.paths.staging / "service-requests").glob("*")), "staging is removed as ever"

    # Row order is not data: the same rows shuffled are the same release
    _rewrite_rows(job, list(reversed(PEOPLE_ROWS)))
    assert run_job(job, settings).run.state == "unchanged"
    # One changed value is a change
    _rewrite_rows(job, [*PEOPLE_ROWS[:2], [*PEOPLE_ROWS[2][:2], "noise", *PEOPLE_ROWS[2][3:]], PEOPLE_ROWS[3]])
    assert run_job(job, settings).release is not None
    _rewrite_rows(job, PEOPLE_ROWS)
    assert run_job(job, settings).release is not None, "back to the first rows: a change from release 2"
    assert _numbers(settings) == [1, 2, 3]


def test_the_data_digest_is_of_rows_not_bytes(tmp_path: Path) -> None:
    rows = pa.table({"id": ["1", "2", "3"], "code": ["A", "B", None]})
    digests = []
    for name, table, size in [("a", rows, 1), ("b", rows.take([2, 0, 1]), 2), ("c", rows, 3)]:
        pq.write_table(table, tmp_path / f"{name}.parquet", row_group_size=size, compression="zstd")
        digests.append(data_digest(tmp_path / f"{name}.parquet", "256MB"))
    assert digests[0] == digests[1] == digests[2], "row order, row groups and compression are not data"
    assert len({(tmp_path / f"{n}.parquet").read_bytes() for n in "abc"}) == 3
    pq.write_table(pa.concat_tables([rows, rows.slice(0, 1)]), tmp_path / "d.parquet")
    pq.write_table(pa.table({"id": ["1", "2", "3"], "code": ["A", "B", ""]}), tmp_path / "e.parquet")
    pq.write_table(pa.table({"id": ["1", "2", "3"], "code": ["A", "B", "null"]}), tmp_path / "f.parquet")
    others = {data_digest(tmp_path / f"{n}.parquet", "256MB") for n in "def"}
    assert len(others) == 3 and digests[0] not in others, "a repeated row, an empty text and 'null' are not null"


def test_schema_policy_and_metadata_changes_make_a_release(settings: Settings, write_job: JobWriter) -> None:
    job = write_job()
    run_job(job, settings)
    schema_file = job.parent / "table.schema.json"
    schema = json.loads(schema_file.read_text())
    schema["fields"][0]["description"] = "The request's number"
    schema_file.write_text(json.dumps(schema))
    assert run_job(job, settings).release is not None, "a schema change"
    assert run_job(job, settings).run.state == "unchanged"
    _edit_job(job, privacy={**PEOPLE_PRIVACY, "requires_approval": True})  # the same data, another policy
    changed = run_job(job, settings)
    assert changed.release is not None, (changed.run.state, changed.run.error)
    _edit_job(job, title="Service requests, city-wide")
    assert run_job(job, settings).release is not None, "the release's datapackage.json names the title"
    assert run_job(job, settings).run.state == "unchanged"
    assert _numbers(settings) == [1, 2, 3, 4]


def test_when_unchanged_publish_and_the_current_release_is_the_one_compared(
    settings: Settings, write_job: JobWriter
) -> None:
    job = write_job(publish={"when_unchanged": "publish"})
    run_job(job, settings)
    assert run_job(job, settings).release is not None
    _edit_job(job, publish={"when_unchanged": "skip"})
    assert run_job(job, settings).run.state == "unchanged"
    # A withdrawn or rejected release is not current: the same source publishes again for review
    open_catalog(settings).set_release_state("service-requests", 2, "withdrawn")
    assert run_job(job, settings).run.state == "unchanged", "release 1, published, holds the same data"
    open_catalog(settings).set_release_state("service-requests", 1, "rejected")
    again = run_job(job, settings)
    assert again.release is not None and again.release.number == 3


def test_unchanged_runs_are_shown_by_the_cli_the_api_and_the_runs_page(
    settings: Settings, write_job: JobWriter, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENDATA_PSEUDONYM_KEY", "test-key-not-secret")  # the key of the settings fixture
    job = write_job(schedule="0 * * * *")
    run_job(job, settings)
    home = ["--home", str(settings.home)]
    assert main([*home, "run", str(job)]) == 0
    out = capsys.readouterr().out
    assert "service-requests: unchanged" in out and "release 1 stays current" in out
    assert main([*home, "runs", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["state"] for r in runs] == ["unchanged", "succeeded"] and runs[0]["release"] == 1
    with TestClient(create_app(settings)) as client:
        listed = client.get("/api/v1/runs", params={"state": "unchanged"}).json()
        assert listed["total"] == 1 and listed["runs"][0]["release"] == 1 and listed["runs"][0]["error"] is None
        assert listed["missed"] == [], "an unchanged run since the fire time keeps the release current"
        page = client.get("/runs").text
        assert re.search(r'class="state state-unchanged">unchanged<', page)


def test_an_incremental_pull_with_nothing_new_is_unchanged(tmp_path: Path, settings: Settings) -> None:
    data = tmp_path / "codes.csv"
    data.write_text("id,code\n1,A\n2,B\n", encoding="utf-8")
    (tmp_path / "codes.schema.json").write_text(json.dumps({"fields": [
        {"name": "id", "type": "integer"}, {"name": "code", "type": "string"}], "primaryKey": ["id"]}))
    job = tmp_path / "codes.yaml"
    job.write_text(yaml.safe_dump({
        "name": "codes", "title": "Codes", "organization": "test-agency", "license": "CC-BY-4.0",
        "source": {"type": "csv", "path": "codes.csv"}, "schema": "codes.schema.json",
        "privacy": {"columns": {"id": "keep", "code": "keep"}}, "incremental": {"cursor": "id", "release": "full"}}))
    assert run_job(job, settings).release is not None
    quiet = run_job(job, settings)
    assert quiet.run.state == "unchanged" and quiet.run.rows_in == 0 and quiet.run.release == 1
    data.write_text("id,code\n1,A\n2,B\n3,C\n", encoding="utf-8")
    assert run_job(job, settings).release is not None


def test_every_publish_key_is_documented() -> None:
    docs = (REPO / "docs" / "jobs.md").read_text(encoding="utf-8") + (REPO / "README.md").read_text(encoding="utf-8")
    for name, field in PublishOptions.model_fields.items():
        assert field.description, f"publish.{name} has no description"
        assert f"publish.{name}" in docs, f"publish.{name} is not in docs/jobs.md or README.md"
