"""The public side cannot reach private data: the engine's locked configuration, and every route."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from api.engine import QueryEngine
from opendata.errors import QueryError
from tests.api_fixtures import DATASET, STAGING_MARKER, ApiHome, build_home, requests_table

LEAK_SCHEMA = {"fields": [{"name": "name", "type": "string"}, {"name": "ssn", "type": "string"}]}


@pytest.fixture
def home(tmp_path: Path) -> ApiHome:
    return build_home(tmp_path)


@pytest.fixture
def engine(home: ApiHome) -> QueryEngine:
    return QueryEngine(home.settings)


def test_engine_settings_are_locked_down(home: ApiHome, engine: QueryEngine) -> None:
    settings = engine.settings()
    assert settings["allowed_directories"] == f"[{home.settings.paths.releases}/]"
    assert settings["enable_external_access"] == "false"
    assert settings["autoinstall_known_extensions"] == "false"
    assert settings["autoload_known_extensions"] == "false"
    assert settings["allow_community_extensions"] == "false"
    assert settings["temp_directory"] == ""
    assert settings["threads"] == str(home.settings.query_threads)
    assert settings["lock_configuration"] == "true"
    for statement in (
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "SET allowed_directories = ['/']",
        "SET memory_limit = '100GB'",
        "RESET enable_external_access",
    ):
        with pytest.raises(QueryError, match="SET is not allowed"):
            engine.execute(statement)
        with engine.cursor() as cursor, pytest.raises(duckdb.Error, match="locked"):
            cursor.execute(statement)  # below execute()'s statement check, the lock still holds


def test_engine_reads_published_release(home: ApiHome, engine: QueryEngine) -> None:
    path = engine.release_file(home.catalog.release(DATASET), "data.parquet")
    counted = engine.execute("SELECT count(*) AS n FROM read_parquet(?)", [str(path)])
    assert counted.to_pylist() == [{"n": 250}]


def private_targets(home: ApiHome) -> list[str]:
    csv_path, parquet_path = home.write_staging()
    releases = home.settings.paths.releases
    sibling = releases.parent / "releases_evil"  # shares the prefix of the allowed folder
    sibling.mkdir()
    (sibling / "raw.csv").write_text(csv_path.read_text())
    return [
        str(csv_path),
        str(parquet_path),
        f"{releases}/../../private/staging/raw.csv",
        f"{releases}/{DATASET}/1/../../../../private/staging/raw.parquet",
        str(home.settings.paths.staging / "*.csv"),
        str(sibling / "raw.csv"),
        "/etc/passwd",
        os.path.relpath(csv_path),
    ]


@pytest.mark.parametrize("reader", ["read_csv", "read_csv_auto", "read_parquet", "read_text", "read_blob"])
def test_engine_refuses_private_files_and_system_files(
    home: ApiHome, engine: QueryEngine, reader: str
) -> None:
    for target in private_targets(home):
        with pytest.raises(duckdb.PermissionException):
            engine.execute(f"SELECT * FROM {reader}(?)", [target])
        with pytest.raises(duckdb.PermissionException):
            engine.execute(f"SELECT * FROM {reader}('{target}')")


def test_engine_refuses_writes_attach_and_extensions(home: ApiHome, engine: QueryEngine) -> None:
    staging, releases = home.settings.paths.staging, home.settings.paths.releases
    home.write_staging()
    planted = releases / "planted.csv"
    for statement in (
        f"ATTACH '{home.settings.paths.catalog_db}' AS catalog (TYPE sqlite)",
        f"ATTACH '{staging / 'new.duckdb'}'",
        f"ATTACH '{releases / 'planted.duckdb'}'",
        f"COPY (SELECT 1) TO '{planted}'",
        f"COPY (SELECT 1) TO '{staging / 'planted.csv'}'",
        f"SELECT * FROM query('COPY (SELECT 1) TO ''{planted}''')",
        "SELECT 1; SELECT 2",
        "INSTALL httpfs",
        "LOAD httpfs",
        "EXPORT DATABASE '/tmp/everything'",
    ):
        with pytest.raises((QueryError, duckdb.Error)):
            engine.execute(statement)
    for select in (
        f"SELECT * FROM glob('{staging}/*')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM read_csv('https://example.org/data.csv')",
    ):
        with pytest.raises(duckdb.PermissionException):
            engine.execute(select)
    assert not list(releases.glob("planted*")) and not list(staging.glob("planted*"))
    with engine.cursor() as cursor, pytest.raises(duckdb.PermissionException):
        cursor.execute(f"COPY (SELECT 1) TO '{staging / 'planted.csv'}'")


def test_engine_cannot_scan_python_objects(engine: QueryEngine) -> None:
    secret_table = pa.table({"ssn": ["123-45-6789"]})  # noqa: F841 - what a replacement scan would find
    with pytest.raises(duckdb.Error):
        engine.execute("SELECT * FROM secret_table")


@pytest.mark.parametrize("how", ["catalog-folder-points-into-private", "release-folder-symlinked-to-private"])
def test_a_release_pointing_into_private_is_refused(home: ApiHome, how: str) -> None:
    home.write_staging()
    home.add_dataset("leaky")
    leak = pa.table({"name": [STAGING_MARKER], "ssn": ["123-45-6789"]})
    home.publish(leak, dataset="leaky", schema=LEAK_SCHEMA, folder="../../private/staging/leaky")
    if how == "release-folder-symlinked-to-private":
        (home.settings.paths.releases / "leaky").mkdir()
        (home.settings.paths.releases / "leaky" / "1").symlink_to(home.settings.paths.staging / "leaky")
        with home.catalog.transaction() as db:
            db.execute("UPDATE releases SET folder = 'leaky/1' WHERE dataset = 'leaky'")
    client = home.client(raise_server_exceptions=False)
    base = "/api/v1/datasets/leaky"
    for path in (
        f"{base}/rows", f"{base}/rows?format=csv", f"{base}/releases/1/data.parquet",
        f"{base}/releases/1/privacy-report", f"{base}/releases/1/datapackage.json",
    ):
        response = client.get(path)
        assert response.status_code == 503, path  # refused and logged for the operator, never served
        assert response.json()["error"]["type"] == "release-unavailable"
        assert STAGING_MARKER not in response.text


def test_no_route_returns_anything_from_staging(home: ApiHome) -> None:
    home.write_staging()
    home.publish(requests_table(20, first_id=900))
    client = home.client(raise_server_exceptions=False)
    names = [DATASET, "staging", "..", "%2E%2E%2F%2E%2E%2Fprivate%2Fstaging", "..%2F..%2Fprivate"]
    numbers = ["1", "2", "..", "%2E%2E"]
    paths = {"/", "/healthz", "/docs", "/openapi.json"}
    routes = [path for path, item in client.get("/openapi.json").json()["paths"].items() if "get" in item]
    assert len(routes) >= 11
    for route in routes:
        for name in names:
            for number in numbers:
                paths.add(route.replace("{name}", name).replace("{number}", number))
    paths |= {
        f"/api/v1/datasets/{DATASET}/rows?category=../../private/staging/raw.csv",
        f"/api/v1/datasets/{DATASET}/rows?{home.settings.paths.staging}/raw.csv=1",
        "/api/v1/datasets/../../private/staging/raw.csv",
        "/private/staging/raw.csv",
        "/static/../../private/staging/raw.csv",
    }
    assert len(paths) > 50
    for path in sorted(paths):
        response = client.get(path)
        assert STAGING_MARKER not in response.text, path
        assert "123-45-6789" not in response.text, path
        assert response.status_code < 500, path
