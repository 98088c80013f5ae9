"""HTTP manners: ETag and Cache-Control on release answers, 304 on If-None-Match, gzip, CORS, OpenAPI."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.api_fixtures import DATASET, ApiHome, build_home, requests_table

ROWS = f"/api/v1/datasets/{DATASET}/rows"


@pytest.fixture
def home(tmp_path: Path) -> ApiHome:
    return build_home(tmp_path)


def test_pinned_answers_are_immutable_and_revalidate_with_304(home: ApiHome) -> None:
    client = home.client()
    pinned = client.get(ROWS, params={"release": 1, "limit": 5})
    assert pinned.headers["cache-control"] == "public, max-age=86400, immutable"
    etag = pinned.headers["etag"]
    again = client.get(ROWS, params={"release": 1, "limit": 5}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = client.get(ROWS, params={"release": 1, "limit": 6}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag
    aggregate = client.get(f"/api/v1/datasets/{DATASET}/aggregate", params={"release": 1, "group_by": "category"})
    assert aggregate.headers["cache-control"].endswith("immutable")
    assert client.get(f"/api/v1/datasets/{DATASET}/aggregate", params={"release": 1, "group_by": "category"},
                      headers={"If-None-Match": aggregate.headers["etag"]}).status_code == 304


def test_latest_answers_revalidate_and_change_with_a_new_release(home: ApiHome) -> None:
    client = home.client()
    latest = client.get(ROWS, params={"limit": 5})
    assert latest.headers["cache-control"] == "public, no-cache" and latest.headers["x-release"] == "1"
    assert client.get(ROWS, params={"limit": 5}, headers={"If-None-Match": latest.headers["etag"]}).status_code == 304
    home.publish(requests_table(10, first_id=900))
    moved = client.get(ROWS, params={"limit": 5}, headers={"If-None-Match": latest.headers["etag"]})
    assert moved.status_code == 200 and moved.json()["rows"][0]["request_id"] == 900
    assert moved.headers["x-release"] == "2"


def test_cached_answers_equal_fresh_ones(home: ApiHome) -> None:
    client = home.client()
    first = client.get(ROWS, params={"limit": 50, "category": "noise"})
    second = client.get(ROWS, params={"limit": 50, "category": "noise"})
    assert first.content == second.content
    assert client.app.state.response_cache.hits >= 1  # type: ignore[attr-defined]


def test_large_answers_are_gzipped(home: ApiHome) -> None:
    client = home.client()
    response = client.get(ROWS, params={"limit": 200}, headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    raw = client.get(ROWS, params={"limit": 200}, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert len(gzip.compress(raw.content)) < len(raw.content)


def test_cors_lets_browser_apps_read_and_see_the_headers(home: ApiHome) -> None:
    client = home.client()
    preflight = client.options(ROWS, headers={
        "Origin": "https://transit.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization",
    })
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", "https://transit.example")
    simple = client.get(ROWS, headers={"Origin": "https://transit.example"})
    assert simple.headers["access-control-allow-origin"] == "*"
    exposed = simple.headers["access-control-expose-headers"].lower()
    for header in ("etag", "link", "ratelimit-remaining", "retry-after"):
        assert header in exposed


def test_openapi_describes_each_datasets_columns(home: ApiHome) -> None:
    client = home.client()
    generic = client.get("/openapi.json").json()
    assert "/api/3/action/{name}" in generic["paths"] and "/api/v1/sql" in generic["paths"]
    assert f"/api/v1/datasets/{DATASET}/rows" not in generic["paths"]  # constant size: generic routes only
    document = client.get(f"/api/v1/datasets/{DATASET}/openapi.json").json()
    row = document["components"]["schemas"]["city-311-requests.row"]["properties"]
    assert row["request_id"]["type"] == ["integer", "null"] and row["opened_at"]["type"] == ["string", "null"]
    assert row["ward name"]["type"] == ["string", "null"]
    operation = document["paths"][f"/api/v1/datasets/{DATASET}/rows"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"request_id", "request_id__gt", "category__contains", "opened_on__lte", "limit", "cursor", "or"} <= names
    assert not {"near", "bbox", "contains"} & names  # no geometry column
    assert "post" not in document["paths"][f"/api/v1/datasets/{DATASET}/rows"]
    assert client.get("/api/v1/datasets/air-quality/openapi.json").status_code == 404  # not published
    assert client.get("/docs").status_code == 200
    assert client.get(f"/api/v1/datasets/{DATASET}/docs").status_code == 200
    home.add_dataset("bus-stops")
    home.publish(requests_table(3), dataset="bus-stops")
    assert "bus-stops.row" in client.get("/api/v1/datasets/bus-stops/openapi.json").json()["components"]["schemas"]
    assert client.get("/openapi.json").json() == generic
