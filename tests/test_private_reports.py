"""Reports of runs that did not publish reach officers whichever worker ran: local, or private object storage."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from opendata.cli import main
from opendata.errors import ConfigurationError
from opendata.settings import Settings
from publishers.private_reports import keep_private
from publishers.runner import run_job
from tests import catalog_fixtures, object_store_fixtures
from tests.conftest import PEOPLE_PRIVACY, PEOPLE_ROWS, JobWriter
from tests.object_store_fixtures import ObjectStore

s3_storage = object_store_fixtures.s3_storage
postgres_url = catalog_fixtures.postgres_url
catalog_url = catalog_fixtures.catalog_url

UNCOVERED = {"columns": {"notes": "redact", "latitude": {"generalize": "round", "digits": 3}}}


def _bad_rows() -> list[list[str]]:
    rows = [list(r) for r in PEOPLE_ROWS]
    rows[2][0] = "three"  # a type error: the whole release is quarantined
    return rows


def _report(settings: Settings, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    assert main(["--home", str(settings.home), "report", "service-requests", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_on_one_machine_the_report_of_a_blocked_run_is_read_from_its_private_folder(
    settings: Settings, write_job: JobWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = run_job(write_job(privacy=UNCOVERED), settings).run
    assert blocked.state == "blocked"
    assert blocked.report_folder == str(settings.paths.blocked / "service-requests" / blocked.run_id)
    report = _report(settings, capsys, "--run", blocked.run_id)
    assert [f["column"] for f in report["findings"] if f["blocking"]] == ["contact_email"]
    assert main(["--home", str(settings.home), "report", "other-dataset", "--run", blocked.run_id]) == 2
    assert "not of 'other-dataset'" in capsys.readouterr().err


def test_with_private_storage_reports_leave_the_worker_for_the_private_bucket(
    tmp_path: Path, write_job: JobWriter, s3_storage: ObjectStore, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    public, private = s3_storage.new_bucket(), s3_storage.new_bucket()
    for name, value in s3_storage.env(public).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENDATA_PRIVATE_STORAGE_URL", f"s3://{private}/runs")
    monkeypatch.setenv("OPENDATA_PSEUDONYM_KEY", "test-key-not-secret")
    worker = Settings(home=tmp_path / "worker")
    worker.paths.ensure()

    blocked = run_job(write_job(privacy=UNCOVERED), worker).run
    assert blocked.report_folder == f"s3://{private}/runs/service-requests/{blocked.run_id}/"
    assert not (worker.paths.blocked / "service-requests" / blocked.run_id).exists(), "no copy left on the worker"
    report = _report(worker, capsys, "--run", blocked.run_id)
    assert [f["column"] for f in report["findings"] if f["blocking"]] == ["contact_email"]

    quarantined = run_job(write_job(rows=_bad_rows(), privacy=PEOPLE_PRIVACY), worker).run
    assert quarantined.state == "quarantined"
    validation = _report(worker, capsys, "--run", quarantined.run_id, "--kind", "validation")
    assert validation["valid"] is False and "type-error" in {e["type"] for e in validation["errors"]}
    objects = s3_storage.objects(private)
    held = pq.read_table(io.BytesIO(objects[f"runs/service-requests/{quarantined.run_id}/anonymized.parquet"]))
    assert held.num_rows == len(PEOPLE_ROWS)
    assert "maria.gonzalez@example.test" not in str(held.to_pylist()), "what is kept is the anonymised table"
    assert s3_storage.objects(public) == {}, "nothing of a run that did not publish reaches the public bucket"


def test_private_storage_must_not_be_the_public_release_storage(
    settings: Settings, s3_storage: ObjectStore, tmp_path: Path
) -> None:
    bucket = s3_storage.new_bucket()
    same = s3_storage.settings(bucket, home=settings.home, private_storage_url=f"s3://{bucket}/public")
    folder = tmp_path / "reports"
    folder.mkdir()
    with pytest.raises(ConfigurationError, match="must not be the public release storage"):
        keep_private(same, folder, "service-requests", "run-1")


def test_an_officer_on_another_machine_reads_the_report_of_a_run_a_worker_blocked(
    tmp_path: Path, write_job: JobWriter, s3_storage: ObjectStore, catalog_url: str,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in s3_storage.env(s3_storage.new_bucket()).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENDATA_PRIVATE_STORAGE_URL", f"s3://{s3_storage.new_bucket()}/runs")
    monkeypatch.setenv("OPENDATA_CATALOG_URL", catalog_url)
    monkeypatch.setenv("OPENDATA_PSEUDONYM_KEY", "test-key-not-secret")
    worker, officer = Settings(home=tmp_path / "worker"), Settings(home=tmp_path / "officer-laptop")
    worker.paths.ensure()
    blocked = run_job(write_job(privacy=UNCOVERED), worker).run
    assert blocked.state == "blocked"
    report = _report(officer, capsys, "--run", blocked.run_id)
    assert [f["column"] for f in report["findings"] if f["blocking"]] == ["contact_email"]
    assert not list(officer.home.glob("private/blocked/*/*")), "read from the private bucket, not a local copy"
