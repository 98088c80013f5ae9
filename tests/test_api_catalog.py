"""Catalog routes of the real app: datasets, releases, organisations, files, index, health, OpenAPI."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.api_fixtures import (
    DATASET,
    REQUESTS_SCHEMA,
    ApiHome,
    TestClient,
    build_home,
    privacy_report,
    requests_table,
)

BASE = f"/api/v1/datasets/{DATASET}"


@pytest.fixture
def home(tmp_path: Path) -> ApiHome:
    return build_home(tmp_path)


@pytest.fixture
def client(home: ApiHome) -> TestClient:
    return home.client()


def test_datasets_lists_only_published_datasets(client: TestClient) -> None:
    body = client.get("/api/v1/datasets").json()
    assert body["count"] == 1
    [dataset] = body["datasets"]
    assert set(dataset) >= {
        "name", "title", "description", "organization", "license", "tags", "latest_release", "url"
    }
    assert dataset["name"] == DATASET
    assert dataset["latest_release"] == 1
    assert dataset["url"] == f"http://testserver{BASE}"
    assert client.get(dataset["url"]).status_code == 200


def test_datasets_filter_by_organization_and_tag(client: TestClient) -> None:
    assert client.get("/api/v1/datasets?organization=city-of-example").json()["count"] == 1
    assert client.get("/api/v1/datasets?organization=nobody").json()["count"] == 0
    assert client.get("/api/v1/datasets?tag=city").json()["count"] == 1
    assert client.get("/api/v1/datasets?tag=nothing").json()["count"] == 0


def test_dataset_detail_has_schema_and_release_links(home: ApiHome, client: TestClient) -> None:
    home.publish(requests_table(300, first_id=1000))
    body = client.get(BASE).json()
    assert body["schema"] == REQUESTS_SCHEMA
    assert body["latest_release"] == 2
    assert [r["number"] for r in body["releases"]] == [1, 2]
    first = body["releases"][0]
    assert set(first) >= {
        "number", "created_at", "published_at", "rows", "url",
        "privacy_report_url", "validation_report_url", "data_url",
    }
    assert first["rows"] == 250
    for key in ("url", "privacy_report_url", "validation_report_url", "data_url", "datapackage_url"):
        assert client.get(first[key]).status_code == 200, key


def test_release_has_files_with_sha256(home: ApiHome, client: TestClient) -> None:
    body = client.get(f"{BASE}/releases/1").json()
    assert body["number"] == 1 and body["dataset"] == DATASET
    assert body["schema"] == REQUESTS_SCHEMA
    folder = home.settings.paths.release_dir(DATASET, 1)
    files = {f["name"]: f for f in body["files"]}
    assert set(files) == {"data.parquet", "datapackage.json", "privacy-report.json", "validation-report.json"}
    for name, entry in files.items():
        assert entry["sha256"] == hashlib.sha256((folder / name).read_bytes()).hexdigest()
        download = client.get(entry["url"])
        assert download.status_code == 200


def test_reports_and_datapackage_come_from_the_release_folder(client: TestClient) -> None:
    privacy = client.get(f"{BASE}/releases/1/privacy-report")
    assert privacy.json() == privacy_report(DATASET, 1, 250)
    files = {f["name"]: f["sha256"] for f in client.get(f"{BASE}/releases/1").json()["files"]}
    assert privacy.headers["etag"] == f'"{files["privacy-report.json"]}"'
    validation = client.get(f"{BASE}/releases/1/validation-report").json()
    assert validation["valid"] is True and validation["stats"]["rows"] == 250
    package = client.get(f"{BASE}/releases/1/datapackage.json").json()
    assert package["resources"][0]["schema"] == REQUESTS_SCHEMA


def test_data_parquet_downloads_the_typed_table(client: TestClient) -> None:
    response = client.get(f"{BASE}/releases/1/data.parquet")
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(response.content))
    assert table.num_rows == 250
    assert table.equals(requests_table(250))


def test_unpublished_release_is_not_served(home: ApiHome, client: TestClient) -> None:
    home.publish(requests_table(5, first_id=9000), state="awaiting-approval")  # release 2, not public
    assert client.get(BASE).json()["latest_release"] == 1
    for path in ("", "/privacy-report", "/validation-report", "/datapackage.json", "/data.parquet"):
        assert client.get(f"{BASE}/releases/2{path}").status_code == 404, path
    assert client.get(f"{BASE}/rows?release=2").status_code == 404
    assert client.get("/api/v1/datasets/air-quality").status_code == 404
    assert client.get("/api/v1/datasets/air-quality/releases/1/data.parquet").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/datasets/no-such-dataset",
        "/api/v1/datasets/no-such-dataset/releases/1",
        "/api/v1/datasets/no-such-dataset/rows",
        f"{BASE}/releases/7",
        f"{BASE}/releases/7/privacy-report",
        f"{BASE}/releases/7/data.parquet",
    ],
)
def test_unknown_dataset_or_release_is_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not-found"


def test_organizations_count_published_datasets(client: TestClient) -> None:
    body = client.get("/api/v1/organizations").json()
    assert body["count"] == 2
    counts = {o["name"]: o["datasets"] for o in body["organizations"]}
    assert counts == {"city-of-example": 1, "environment-agency": 0}


def test_index_health_and_openapi(client: TestClient) -> None:
    index = client.get("/").json()
    for url in index["links"].values():
        assert client.get(url).status_code == 200, url
    assert client.get("/healthz").json() == {"status": "ok", "catalog": "ok", "engine": "ok",
                                             "catalog_database": "sqlite", "storage": "local"}
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/v1/datasets", "/api/v1/datasets/{name}", "/api/v1/datasets/{name}/releases/{number}",
        "/api/v1/datasets/{name}/rows", "/api/v1/datasets/{name}/releases/{number}/privacy-report",
        "/api/v1/datasets/{name}/releases/{number}/validation-report",
        "/api/v1/datasets/{name}/releases/{number}/datapackage.json",
        "/api/v1/datasets/{name}/releases/{number}/data.parquet", "/api/v1/organizations", "/healthz", "/",
    ):
        assert path in spec["paths"], path
    assert "schema" in spec["components"]["schemas"]["DatasetPublic"]["properties"]
    assert client.get("/docs").status_code == 200
