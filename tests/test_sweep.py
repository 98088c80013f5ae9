"""`opendata sweep`: folders no catalog release names go once old enough; recorded releases never do."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest

from catalog.storage import open_storage
from catalog.store import open_catalog
from opendata.cli import main
from opendata.settings import Settings
from publishers.runner import run_job
from tests import object_store_fixtures
from tests.conftest import PEOPLE_PRIVACY, JobWriter
from tests.object_store_fixtures import ObjectStore

s3_storage = object_store_fixtures.s3_storage


def _sweep(settings: Settings, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["--home", str(settings.home), "sweep", *args, "--json"]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_orphans_in_object_storage_go_once_old_and_releases_stay(
    tmp_path: Any, write_job: JobWriter, s3_storage: ObjectStore, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket = s3_storage.new_bucket()
    for name, value in s3_storage.env(bucket).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENDATA_PSEUDONYM_KEY", "test-key-not-secret")
    settings = Settings(home=tmp_path / "home")
    settings.paths.ensure()
    release = run_job(write_job(privacy=PEOPLE_PRIVACY), settings).release
    assert release is not None
    client = s3_storage.client()
    for key in ("public/service-requests/2-crashedrun/data.parquet", "public/service-requests/2-crashedrun/x.json",
                "public/notes.txt"):
        client.put_object(Bucket=bucket, Key=key, Body=b"left by a crash")
    before = s3_storage.objects(bucket)

    young = _sweep(settings, capsys, "--dry-run")
    assert young["orphans"] == [] and young["kept_young"] == ["service-requests/2-crashedrun"]
    listed = _sweep(settings, capsys, "--older-than", "0", "--dry-run")
    assert listed["orphans"] == ["service-requests/2-crashedrun"] and s3_storage.objects(bucket) == before

    done = _sweep(settings, capsys, "--older-than", "0")
    assert done["deleted"] == {"service-requests/2-crashedrun": 2}
    after = s3_storage.objects(bucket)
    assert set(after) == {k for k in before if "crashedrun" not in k}
    assert "public/notes.txt" in after, "keys outside a release folder are not ours to delete"
    storage = open_storage(settings)
    assert storage.read_bytes(release, "data.parquet") == before[f"public/{release.folder}/data.parquet"]


def test_a_local_folder_left_by_a_crash_goes_and_rejected_releases_stay(
    settings: Settings, write_job: JobWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    run_job(write_job(privacy=PEOPLE_PRIVACY, publish={"when_unchanged": "publish"}), settings)
    run_job(write_job(privacy=PEOPLE_PRIVACY, publish={"when_unchanged": "publish"}), settings)
    open_catalog(settings).set_release_state("service-requests", 2, "rejected")
    orphan = settings.paths.releases / "service-requests" / "3"
    orphan.mkdir()
    (orphan / "data.parquet").write_bytes(b"partial")
    old = time.time() - 3 * 86400
    os.utime(orphan / "data.parquet", (old, old))

    done = _sweep(settings, capsys)
    assert done["deleted"] == {"service-requests/3": 1}
    assert not orphan.exists()
    for number in (1, 2):  # published and rejected releases are the catalog's: never swept
        assert (settings.paths.releases / "service-requests" / str(number) / "data.parquet").is_file()
