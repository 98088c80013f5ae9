"""`opendata migrate`: an embedded installation copied into PostgreSQL (and object storage) serves the same."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from anonymize.keys import pseudonym_key
from api.app import create_app
from catalog.api_keys import ApiKeyStore
from catalog.approvals import Approvals
from catalog.database import catalog_database
from catalog.store import open_catalog
from opendata.cli import main
from opendata.errors import ConfigurationError
from opendata.settings import Settings
from publishers.runner import run_job
from tests import catalog_fixtures, object_store_fixtures
from tests.conftest import PEOPLE_PRIVACY, JobWriter
from tests.object_store_fixtures import ObjectStore

postgres_url = catalog_fixtures.postgres_url
catalog_url = catalog_fixtures.catalog_url
s3_storage = object_store_fixtures.s3_storage

ROWS = "/api/v1/datasets/service-requests/rows"


def _installation(settings: Settings, write_job: JobWriter) -> str:
    """Two releases of one dataset, an approved release of another, an API key; returns the key."""
    job = write_job(privacy=PEOPLE_PRIVACY, publish={"when_unchanged": "publish"})
    run_job(job, settings)
    run_job(job, settings)
    waiting = write_job(name="reviewed-requests", privacy={**PEOPLE_PRIVACY, "requires_approval": True})
    run_job(waiting, settings)
    Approvals(open_catalog(settings)).decide("reviewed-requests", 1, "approved", by="Ada", role="officer",
                                             reason="report read", via="cli")
    return ApiKeyStore(catalog_database(settings)).create("transit-app", "developer").key


def _answers(settings: Settings, key: str) -> dict[str, Any]:
    with TestClient(create_app(settings)) as client:
        page = client.get(ROWS, params={"category": "pothole"}, headers={"X-API-Key": key})
        assert page.status_code == 200, page.text
        return {
            "rows": page.json()["rows"], "etag": page.headers["etag"], "release": page.headers["x-release"],
            "datasets": [d["name"] for d in client.get("/api/v1/datasets").json()["datasets"]],
            "pinned": client.get(ROWS, params={"release": 1}).json()["rows"],
            "runs": [(r["dataset"], r["release"]) for r in client.get("/api/v1/runs").json()["runs"]],
        }


def _migrate(settings: Settings, url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["--home", str(settings.home), "migrate", "--to-catalog", url, *extra, "--json"]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_the_catalog_moves_to_postgresql_and_serves_the_same(
    settings: Settings, write_job: JobWriter, catalog_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    key = _installation(settings, write_job)
    before = _answers(settings, key)
    legacy = settings.paths.private / "source-columns" / "older-dataset" / "20240101T000000Z-legacy.json"
    legacy.parent.mkdir(parents=True)  # where installations before the shared catalog kept them
    legacy.write_text(json.dumps({"columns": {"id": "integer"}, "changes": []}))
    first = _migrate(settings, catalog_url, capsys)
    assert first["copied_rows"]["releases"] == 3 and first["copied_rows"]["datasets"] == 2
    assert first["copied_rows"]["source_columns"] == 3 + 1, "each publishing run's source columns, and the old file"
    assert first["copied_rows"]["api_keys"] == 1 and first["copied_rows"]["approvals"] == 1
    assert first["copied_files"] == 0, "without --to-storage the release files stay where they are"

    moved = settings.model_copy(update={"catalog_url": SecretStr(catalog_url)})
    assert _answers(moved, key) == before  # same rows, ETags, releases, run history; the key still works
    (decision,) = Approvals(open_catalog(moved)).history("reviewed-requests", 1)
    assert (decision.decided_by, decision.reason) == ("Ada", "report read")

    again = _migrate(settings, catalog_url, capsys)
    assert sum(again["copied_rows"].values()) == 0 and again["kept_rows"]["releases"] == 3

    # the old installation publishes once more
    run_job(write_job(privacy=PEOPLE_PRIVACY, publish={"when_unchanged": "publish"}), settings)
    last = _migrate(settings, catalog_url, capsys)
    assert last["copied_rows"]["releases"] == 1 and last["copied_rows"]["runs"] == 1
    assert open_catalog(moved).release("service-requests").number == 3
    # identities continue after the copied rows
    Approvals(open_catalog(moved))
    assert catalog_database(moved).dialect == "postgresql"


def test_a_bad_target_is_refused_without_touching_anything(
    settings: Settings, write_job: JobWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    run_job(write_job(privacy=PEOPLE_PRIVACY, publish={"when_unchanged": "publish"}), settings)
    home = ["--home", str(settings.home)]
    assert main([*home, "migrate", "--to-catalog", "mysql://x@y/z"]) == 2
    assert "postgresql://" in capsys.readouterr().err
    assert main([*home, "migrate", "--to-catalog", f"sqlite:///{settings.paths.catalog_db}"]) == 2
    assert "already use" in capsys.readouterr().err
    assert main([*home, "migrate", "--to-catalog", "postgresql://u@127.0.0.1:1/none",
                 "--to-storage", "/mnt/releases"]) == 2
    assert "s3://bucket/prefix" in capsys.readouterr().err
    assert open_catalog(settings).release("service-requests").number == 1


def test_release_files_move_to_object_storage_checked_against_the_catalog(
    settings: Settings, write_job: JobWriter, catalog_url: str, s3_storage: ObjectStore,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = _installation(settings, write_job)
    before = _answers(settings, key)
    bucket = s3_storage.new_bucket()
    for name, value in s3_storage.env(bucket).items():
        if name != "OPENDATA_STORAGE_URL":
            monkeypatch.setenv(name, value)
    report = _migrate(settings, catalog_url, capsys, "--to-storage", f"s3://{bucket}/public")
    assert sorted(report["releases_moved"]) == ["reviewed-requests/1", "service-requests/1", "service-requests/2"]
    assert report["copied_files"] == 18  # six files a release (facts.json: profiles; fingerprint.json)
    objects = s3_storage.objects(bucket)
    assert len(objects) == 18 and all(k.startswith("public/") for k in objects)

    moved = s3_storage.settings(bucket, home=settings.home, pseudonym_key="test-key-not-secret",
                                catalog_url=catalog_url)
    assert _answers(moved, key) == before
    assert open_catalog(moved).release("service-requests").folder.startswith("service-requests/2-")
    again = _migrate(settings, catalog_url, capsys, "--to-storage", f"s3://{bucket}/public")
    assert again["copied_files"] == 0 and len(s3_storage.objects(bucket)) == 18


def test_a_damaged_release_file_stops_the_copy(
    settings: Settings, write_job: JobWriter, catalog_url: str, s3_storage: ObjectStore,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_job(write_job(privacy=PEOPLE_PRIVACY, publish={"when_unchanged": "publish"}), settings)
    report = settings.paths.releases / "service-requests" / "1" / "validation-report.json"
    report.write_text(report.read_text() + " ")
    bucket = s3_storage.new_bucket()
    for name, value in s3_storage.env(bucket).items():
        monkeypatch.setenv(name, value)
    home = ["--home", str(settings.home)]
    monkeypatch.delenv("OPENDATA_STORAGE_URL")
    assert main([*home, "migrate", "--to-catalog", catalog_url, "--to-storage", f"s3://{bucket}/p"]) == 2
    assert "does not match the sha256" in capsys.readouterr().err
    assert s3_storage.objects(bucket) == {}
    with catalog_database(settings.model_copy(update={"catalog_url": SecretStr(catalog_url)})).connect() as db:
        assert db.execute("SELECT count(*) FROM releases").fetchone()[0] == 0


def test_the_development_key_moves_with_the_installation_and_pseudonyms_stay(
    tmp_path: Path, write_job: JobWriter, catalog_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    embedded = Settings(home=tmp_path / "embedded")  # development: a random key kept in HOME/private/secrets
    embedded.paths.ensure()
    job = write_job(privacy=PEOPLE_PRIVACY, publish={"when_unchanged": "publish"})
    assert run_job(job, embedded).run.state == "succeeded"
    _migrate(embedded, catalog_url, capsys)
    secret = tmp_path / "secret-store" / "pseudonym.key"
    secret.parent.mkdir()
    shutil.copyfile(embedded.paths.secrets / "pseudonym.key", secret)

    (embedded.paths.secrets / "pseudonym.key").unlink()  # the key now lives in the secret store only
    moved = Settings(home=embedded.home, environment="production", pseudonym_key_file=secret,
                     catalog_url=catalog_url)
    second = run_job(job, moved)
    assert second.run.state == "succeeded", second.run.error  # the same key id: no unannounced key change
    with TestClient(create_app(moved)) as client:
        emails = [
            [r["contact_email"] for r in client.get(ROWS, params={"release": n}).json()["rows"]] for n in (1, 2)
        ]
    assert emails[0] == emails[1] and any(emails[0])

    with pytest.raises(ConfigurationError, match="OPENDATA_PSEUDONYM_KEY_FILE"):
        pseudonym_key(Settings(home=tmp_path / "x", environment="production", pseudonym_key_file=tmp_path / "none"))


def test_and_back_from_postgresql_and_object_storage_to_an_embedded_installation(
    tmp_path: Path, write_job: JobWriter, catalog_url: str, s3_storage: ObjectStore,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket = s3_storage.new_bucket()
    for name, value in s3_storage.env(bucket).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENDATA_CATALOG_URL", catalog_url)
    monkeypatch.setenv("OPENDATA_PSEUDONYM_KEY", "test-key-not-secret")
    distributed = Settings(home=tmp_path / "worker")
    distributed.paths.ensure()
    key = _installation(distributed, write_job)
    before = _answers(distributed, key)

    home = tmp_path / "embedded-again"
    capsys.readouterr()
    assert main(["--home", str(distributed.home), "migrate", "--to-catalog", f"sqlite:///{home}/catalog.sqlite3",
                 "--to-storage", f"file:///{home}/public/releases", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["copied_rows"]["releases"] == 3 and report["copied_files"] == 18
    for name in ("OPENDATA_CATALOG_URL", "OPENDATA_STORAGE_URL"):
        monkeypatch.delenv(name)
    embedded = Settings(home=home)
    assert embedded.catalog_url is None and embedded.storage_url is None
    assert _answers(embedded, key) == before
    assert (home / "public" / "releases" / "service-requests" / "2" / "data.parquet").is_file()
    assert not list(home.glob("public/releases/.opendata-migrate-*")), "no scratch folder left behind"
