"""Release files in S3-compatible object storage (a real ``rclone serve s3``), read by DuckDB's httpfs.

The people job is published twice through the real pipeline: once to a bucket, once to local disk. The
real FastAPI app must answer the same on both (rows with filters and cursors, aggregates, SQL, exports,
reports and pages), with ``release_memory_rows`` at its default and at 0, while its locked engine reads
nothing outside the storage's prefix.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.engine import QueryEngine
from catalog.models import Release
from catalog.storage import OutsideStorage, open_storage
from catalog.store import Catalog
from opendata.duckdb_extensions import NO_DOWNLOADS, load_httpfs
from opendata.errors import CatalogError, ConfigurationError, QueryError
from opendata.settings import Settings
from publishers.runner import run_job
from tests.conftest import PEOPLE_HEADER, PEOPLE_PRIVACY, PEOPLE_ROWS, PEOPLE_SCHEMA
from tests.object_store_fixtures import ObjectStore, s3_storage  # noqa: F401 - the fixture
from tests.publishers_fixtures import free_port, write_source_job

DATASET = "service-requests"
API = f"/api/v1/datasets/{DATASET}"
PSEUDONYM_KEY = "test-key-not-secret"
FILES = ["data.parquet", "datapackage.json", "facts.json", "fingerprint.json", "privacy-report.json",
         "validation-report.json"]


def people_job(folder: Path, **extra: Any) -> Path:
    """The people job of tests/conftest.py (a CSV source with personal data), written under ``folder``."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    with open(folder / "data" / "rows.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PEOPLE_HEADER)
        writer.writerows(PEOPLE_ROWS)
    (folder / "table.schema.json").write_text(json.dumps(PEOPLE_SCHEMA))
    job = {
        "name": DATASET, "title": "Service requests", "description": "Requests for non-emergency city services.",
        "organization": "test-city", "license": "CC-BY-4.0", "tags": ["services"],
        "source": {"type": "csv", "path": "data/rows.csv"}, "schema": "table.schema.json", "privacy": PEOPLE_PRIVACY,
        **extra,
    }
    path = folder / f"{DATASET}.yaml"
    path.write_text(yaml.safe_dump(job, sort_keys=False))
    return path


def home_settings(root: Path, store: ObjectStore | None = None, bucket: str = "", **fields: Any) -> Settings:
    fields = {"home": root / "home", "pseudonym_key": PSEUDONYM_KEY, "rate_limit_anonymous": 100_000, **fields}
    settings = store.settings(bucket, **fields) if store else Settings(**fields)
    settings.paths.ensure()
    return settings


@dataclass
class Published:
    store: ObjectStore
    bucket: str
    s3: Settings
    local: Settings
    release: Release  # the one in the bucket
    local_release: Release

    def client(self, storage: str, memory_rows: int | None = None) -> TestClient:
        settings = self.s3 if storage == "s3" else self.local
        if memory_rows is not None:
            settings = settings.model_copy(update={"release_memory_rows": memory_rows})
        return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def published(s3_storage: ObjectStore, tmp_path_factory: pytest.TempPathFactory) -> Published:  # noqa: F811
    bucket = s3_storage.new_bucket()
    s3 = home_settings(tmp_path_factory.mktemp("s3"), s3_storage, bucket)
    local = home_settings(tmp_path_factory.mktemp("local"))
    job = people_job(tmp_path_factory.mktemp("jobs"))
    result, on_disk = run_job(job, s3), run_job(job, local)
    assert result.release is not None and on_disk.release is not None, result.run.error
    return Published(s3_storage, bucket, s3, local, result.release, on_disk.release)


def test_publishing_writes_the_release_to_the_bucket_only(published: Published) -> None:
    release = published.release
    assert re.fullmatch(rf"{DATASET}/1-{re.escape(release.run_id)}", release.folder)
    assert not [p for p in published.s3.paths.releases.rglob("*")]  # nothing on local disk
    objects = published.store.objects(published.bucket)
    assert sorted(objects) == [f"public/{release.folder}/{name}" for name in FILES]
    for name in FILES:
        assert hashlib.sha256(objects[f"public/{release.folder}/{name}"]).hexdigest() == release.files[name]
    table = pq.read_table(pa.BufferReader(objects[f"public/{release.folder}/data.parquet"]))
    assert table.column("request_id").to_pylist() == [1, 2, 3, 4]
    assert "maria.gonzalez@example.test" not in json.dumps(table.to_pylist(), default=str)


RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")
MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")
SECONDS = re.compile(r'"(milli)?seconds":\s*[0-9.e-]+')


def normalized(text: str, release: Release) -> str:
    """What differs between two runs of the same job (run ids, times and durations of the run, so the
    hashes of the reports) blanked out."""
    for name, digest in release.files.items():
        text = text.replace(digest, f"<sha256 of {name}>")
    return MOMENT.sub("<time>", RUN_ID.sub("<run>", SECONDS.sub('"seconds":<n>', text)))


def every_page(client: TestClient, url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = client.get(url, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if (cursor := response.json()["next"]) is None:
            return pages


ROWS_QUERIES: list[dict[str, Any]] = [
    {"limit": 1},
    {"limit": 1, "category": "pothole"},
    {"limit": 2, "latitude__gt": "40.71", "select": "request_id,contact_email,latitude"},
    {"limit": 1, "order": "-opened", "category__ne": "noise"},
]
JSON_URLS = [
    (f"{API}/aggregate", {"group_by": "category", "metrics": "count,max:latitude,min:opened"}),
    (f"{API}/aggregate", {"metrics": "count,avg:latitude", "category__in": "pothole,noise"}),
    ("/api/v1/sql", {"sql": f'SELECT category, count(*) AS n FROM "{DATASET}" GROUP BY 1 ORDER BY 1'}),
    ("/api/v1/sql", {"sql": f'SELECT * FROM "{DATASET}@1" WHERE latitude > 40.72 ORDER BY request_id'}),
    ("/api/v1/sql/tables", {}),
]
EXPORTS = [
    (f"{API}/rows", {"format": "csv", "category": "pothole"}),
    (f"{API}/export.csv", {}),
    (f"{API}/export.parquet", {"select": "request_id,notes,latitude"}),
    (f"{API}/export.jsonl", {"order": "latitude"}),
    (f"{API}/releases/1/data.parquet", {}),
]
DOCUMENTS = [f"{API}/releases/1/privacy-report", f"{API}/releases/1/validation-report",
             f"{API}/releases/1/datapackage.json"]
PAGES = [f"/datasets/{DATASET}", f"/datasets/{DATASET}/releases/1/privacy",
         f"/datasets/{DATASET}/releases/1/validation"]


@pytest.fixture(scope="module")
def local_client(published: Published) -> Iterator[TestClient]:
    with published.client("local") as client:
        yield client


@pytest.mark.parametrize("memory_rows", [None, 0], ids=["memory-default", "memory-0"])
def test_the_api_answers_from_the_bucket_as_it_does_from_local_disk(
    published: Published, local_client: TestClient, memory_rows: int | None
) -> None:
    with published.client("s3", memory_rows) as s3:
        for params in ROWS_QUERIES:
            pages = every_page(s3, f"{API}/rows", params)
            assert pages == every_page(local_client, f"{API}/rows", params), params
            assert sum(len(p["rows"]) for p in pages) >= 1
        for url, params in JSON_URLS:
            answer = s3.get(url, params=params)
            assert answer.status_code == 200, answer.text
            expected = local_client.get(url, params=params).json()
            if url.startswith("/api/v1/sql") and "elapsed_ms" in expected:
                expected["elapsed_ms"] = answer.json()["elapsed_ms"]
            assert answer.json() == expected, url
        for url, params in EXPORTS:
            answer = s3.get(url, params=params)
            assert answer.status_code == 200, (url, answer.text)
            assert answer.content == local_client.get(url, params=params).content, url
            assert answer.headers["content-type"] == local_client.get(url, params=params).headers["content-type"]
        download = s3.get(f"{API}/releases/1/data.parquet")
        assert hashlib.sha256(download.content).hexdigest() == published.release.files["data.parquet"]
        assert download.headers["etag"] == f'"{published.release.files["data.parquet"]}"'
        assert 'filename="service-requests-1.parquet"' in download.headers["content-disposition"]
        for url in DOCUMENTS + PAGES:
            answer = s3.get(url)
            assert answer.status_code == 200, (url, answer.text)
            expected = local_client.get(url).text
            assert normalized(answer.text, published.release) == normalized(expected, published.local_release), url
        assert "Maria" not in s3.get(PAGES[0]).text


def test_the_engine_reads_only_the_storage_prefix(published: Published) -> None:
    other = published.store.new_bucket()
    sample = io.BytesIO()
    pq.write_table(pa.table({"ssn": ["123-45-6789"]}), sample)
    published.store.client().put_object(Bucket=other, Key="public/leak.parquet", Body=sample.getvalue())
    published.store.client().put_object(Bucket=published.bucket, Key="private/leak.parquet", Body=sample.getvalue())
    before = published.store.objects(published.bucket)

    engine = QueryEngine(published.s3)
    assert engine.settings()["allowed_directories"].strip("[]'") == f"s3://{published.bucket}/public/"
    assert engine.settings()["lock_configuration"] == "true"
    data = engine.release_file(published.release, "data.parquet")
    assert engine.execute("SELECT count(*) AS n FROM read_parquet(?)", [data]).to_pylist() == [{"n": 4}]
    for target in (f"s3://{other}/public/leak.parquet", f"s3://{published.bucket}/private/leak.parquet",
                   f"s3://{published.bucket}/publicity/leak.parquet", "/etc/passwd",
                   str(published.s3.paths.catalog_db)):
        with pytest.raises(duckdb.PermissionException):
            engine.execute("SELECT * FROM read_blob(?)", [target])
    # DuckDB matches s3:// URLs against allowed_directories as text (``..`` is not resolved), so the storage
    # refuses a catalog folder with dot segments before DuckDB sees it (the API answers 500, reads nothing).
    for folder in (f"{DATASET}/../../private", "../private", "/etc", f"{DATASET}/./1"):
        tampered = published.release.model_copy(update={"folder": folder})
        assert not engine.storage.exists(tampered, "data.parquet")
        with pytest.raises(OutsideStorage):
            engine.release_file(tampered, "data.parquet")
    for statement in (f"COPY (SELECT 1) TO 's3://{published.bucket}/public/{DATASET}/planted.parquet'",
                      "SET s3_endpoint = 'evil.example:80'", f"ATTACH 's3://{published.bucket}/public/x.duckdb'"):
        with pytest.raises(QueryError):
            engine.execute(statement)
    engine.close()

    with published.client("s3") as client:
        for sql in (f"SELECT * FROM read_parquet('s3://{other}/public/leak.parquet')",
                    f"SELECT * FROM read_parquet('s3://{published.bucket}/private/leak.parquet')",
                    "SELECT * FROM read_csv('/etc/passwd')",
                    f"COPY (SELECT 1) TO 's3://{published.bucket}/public/{DATASET}/planted.parquet'",
                    f"COPY \"{DATASET}\" TO 's3://{other}/copied.parquet'",
                    "SELECT * FROM duckdb_secrets()", "SELECT * FROM which_secret('s3://x/y', 's3')"):
            answer = client.get("/api/v1/sql", params={"sql": sql})
            assert answer.status_code == 400, (sql, answer.text)
            assert published.store.secret not in answer.text and "123-45-6789" not in answer.text
        rows = client.get(f"{API}/rows", params={"category": f"s3://{other}/public/leak.parquet"})
        assert rows.status_code == 200 and rows.json()["rows"] == []
    assert published.store.objects(published.bucket) == before
    assert list(published.store.objects(other)) == ["public/leak.parquet"]


def test_a_second_run_publishes_under_a_new_key_and_leaves_release_1_untouched(
    s3_storage: ObjectStore, tmp_path: Path  # noqa: F811
) -> None:
    bucket = s3_storage.new_bucket()
    settings = home_settings(tmp_path, s3_storage, bucket)
    job = people_job(tmp_path / "jobs")
    first = run_job(job, settings).release
    assert first is not None
    same = run_job(job, settings)  # the same source: the fingerprint read back from the bucket matches
    assert same.run.state == "unchanged" and same.run.release == 1 and same.release is None
    job = people_job(tmp_path / "jobs", publish={"when_unchanged": "publish"})
    before = s3_storage.objects(bucket)
    second = run_job(job, settings).release
    assert second is not None and second.number == 2 and second.folder != first.folder
    after = s3_storage.objects(bucket)
    assert {k: v for k, v in after.items() if k in before} == before
    assert sorted(set(after) - set(before)) == [f"public/{second.folder}/{name}" for name in FILES]
    with TestClient(create_app(settings)) as client:
        assert client.get(f"{API}/rows", params={"release": 1}).json()["release"] == 1
        assert client.get(f"{API}/rows").json()["release"] == 2
        assert client.get(f"{API}/releases/2/privacy-report").json()["run_id"] == second.run_id


def test_a_full_incremental_release_merges_with_the_previous_release_read_from_the_bucket(
    s3_storage: ObjectStore, tmp_path: Path  # noqa: F811
) -> None:
    settings = home_settings(tmp_path, s3_storage, s3_storage.new_bucket())
    data = tmp_path / "jobs" / "rows.csv"
    data.parent.mkdir()
    data.write_text("id,code\n1,A\n2,B\n", encoding="utf-8")
    job = write_source_job(tmp_path / "jobs", "codes", {"type": "csv", "path": "rows.csv"},
                           [{"name": "id", "type": "integer"}, {"name": "code", "type": "string"}],
                           primaryKey=["id"], incremental={"cursor": "id", "release": "full"})
    assert run_job(job, settings).release is not None
    data.write_text("id,code\n1,A\n2,B\n9,Z\n", encoding="utf-8")
    second = run_job(job, settings)
    assert second.release is not None and second.run.rows_in == 1, second.run.error
    table = open_storage(settings).read_table(second.release)
    assert sorted(zip(table.column("id").to_pylist(), table.column("code").to_pylist(), strict=True)) == [
        (1, "A"), (2, "B"), (9, "Z")]


def test_a_run_killed_after_the_upload_leaves_nothing_visible_and_the_rerun_publishes(
    s3_storage: ObjectStore, tmp_path: Path  # noqa: F811
) -> None:
    bucket = s3_storage.new_bucket()
    settings = home_settings(tmp_path, s3_storage, bucket)
    job = people_job(tmp_path / "jobs", publish={"when_unchanged": "publish"})
    assert run_job(job, settings).release is not None
    env = {**os.environ, **s3_storage.env(bucket), "OPENDATA_PSEUDONYM_KEY": PSEUDONYM_KEY,
           "OPENDATA_CRASH_AT": "publish:after-rename"}
    crashed = subprocess.run([sys.executable, "-m", "opendata.cli", "--home", str(settings.home), "run", str(job)],
                             capture_output=True, text=True, env=env, timeout=120)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr

    catalog = Catalog(settings.paths.catalog_db)
    assert [r.number for r in catalog.releases(DATASET, published_only=False)] == [1]
    recorded = catalog.release(DATASET).folder.split("/")[1]
    orphans = {key.split("/")[2] for key in s3_storage.objects(bucket)} - {recorded}
    assert len(orphans) == 1 and next(iter(orphans)).startswith("2-")  # uploaded, never recorded
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get(f"{API}/rows").json()["release"] == 1
        assert client.get(f"{API}/releases/2/data.parquet").status_code == 404
        assert client.get("/api/v1/sql/tables").json()  # the pool opens over release 1 only

    rerun = run_job(job, settings)
    assert rerun.release is not None and rerun.release.number == 2
    assert rerun.release.folder.split("/")[1] not in orphans
    storage = open_storage(settings)
    for release in Catalog(settings.paths.catalog_db).releases(DATASET):
        for name, digest in release.files.items():
            assert hashlib.sha256(storage.read_bytes(release, name)).hexdigest() == digest
    states = [r.state for r in Catalog(settings.paths.catalog_db).runs(DATASET)]
    assert "running" not in states and states.count("succeeded") == 2


def test_httpfs_loads_from_the_wheel_with_downloads_off(published: Published) -> None:
    con = duckdb.connect()
    for statement in NO_DOWNLOADS:
        con.execute(statement)
    settings = dict(con.execute(
        "SELECT name, value FROM duckdb_settings() WHERE name LIKE 'auto%_known_extensions'").fetchall())
    assert settings == {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
    url = open_storage(published.s3).duckdb_path(published.release, "data.parquet")
    with pytest.raises(duckdb.Error, match="httpfs"):  # not downloaded, not auto-loaded
        con.execute("SELECT count(*) FROM read_parquet(?)", [url])
    for statement in load_httpfs():
        con.execute(statement)
    assert con.execute("SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'httpfs'").fetchone() == (True,)
    for statement in open_storage(published.s3).prepare_duckdb()[len(load_httpfs()):]:
        con.execute(statement)
    assert con.execute("SELECT count(*) FROM read_parquet(?)", [url]).fetchone() == (4,)


def test_a_missing_object_is_a_not_found_error(published: Published) -> None:
    storage = open_storage(published.s3)
    gone = published.release.model_copy(update={"folder": f"{DATASET}/9-nothing-here"})
    assert not storage.exists(gone, "data.parquet")
    for read in (storage.read_bytes, storage.size, storage.duckdb_path, storage.stream):
        with pytest.raises(CatalogError, match="has no file 'data.parquet'"):
            read(gone, "data.parquet")


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"storage_url": "s3://"}, "OPENDATA_STORAGE_URL='s3://' is not an object storage URL"),
        ({"storage_url": "s3://Not_A_Bucket/x"}, "OPENDATA_STORAGE_URL"),
        ({"storage_url": "s3://bucket/../etc"}, "not a plain key path"),
        ({"storage_url": "ftp://bucket/x"}, "is not a storage this platform knows"),
        ({"s3_secret_access_key": None}, "OPENDATA_S3_ACCESS_KEY_ID and OPENDATA_S3_SECRET_ACCESS_KEY"),
        ({"s3_secret_access_key": SecretStr("wrong-secret-0123456789")}, "refused these keys"),
        ({"storage_url": "s3://no-such-bucket-here/public"}, "bucket 'no-such-bucket-here' does not exist"),
        ({"s3_endpoint": "127.0.0.1:9000"}, "OPENDATA_S3_ENDPOINT='127.0.0.1:9000' is not an endpoint URL"),
        ({"s3_endpoint": "unreachable"}, "cannot reach the object storage"),
    ],
)
def test_bad_storage_settings_are_a_clear_configuration_error(
    published: Published, change: dict[str, Any], needle: str
) -> None:
    if change.get("s3_endpoint") == "unreachable":
        change = {"s3_endpoint": f"http://127.0.0.1:{free_port()}"}
    settings = published.s3.model_copy(update=change)
    with pytest.raises(ConfigurationError, match=re.escape(needle)):
        open_storage(settings)
    with pytest.raises(ConfigurationError, match=re.escape(needle)):
        create_app(settings)
