"""Exports: CSV, JSON, JSON Lines, Parquet and GeoJSON, streamed in chunks, with filters and pinning."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.api_fixtures import DATASET, ApiHome, build_home, requests_table

EXPORT = f"/api/v1/datasets/{DATASET}/export"
STOPS_SCHEMA = {"fields": [{"name": "stop_id", "type": "integer"}, {"name": "name", "type": "string"},
                           {"name": "latitude", "type": "number"}, {"name": "longitude", "type": "number"}]}


@pytest.fixture
def home(tmp_path: Path) -> ApiHome:
    return build_home(tmp_path)


def test_every_format_holds_the_filtered_rows(home: ApiHome) -> None:
    client = home.client()
    expected = [i for i in range(1, 251) if i % 4 == 3]
    params = {"category": "noise"}
    csv_rows = list(csv.DictReader(io.StringIO(client.get(f"{EXPORT}.csv", params=params).text)))
    assert [int(r["request_id"]) for r in csv_rows] == expected
    assert [r["request_id"] for r in client.get(f"{EXPORT}.json", params=params).json()] == expected
    lines = client.get(f"{EXPORT}.jsonl", params=params).text.splitlines()
    assert [json.loads(line)["request_id"] for line in lines] == expected
    response = client.get(f"{EXPORT}.parquet", params={**params, "select": "request_id,category"})
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(pa.BufferReader(response.content))
    assert table.column_names == ["request_id", "category"] and table.column("request_id").to_pylist() == expected
    assert 'filename="city-311-requests-1.parquet"' in response.headers["content-disposition"]


def test_exports_are_streamed_in_batches(home: ApiHome) -> None:
    home.publish(requests_table(25_000), row_group_size=5000)
    with home.client().stream("GET", f"{EXPORT}.jsonl", headers={"Accept-Encoding": "identity"}) as response:
        chunks = [len(c) for c in response.iter_raw()]
    assert len(chunks) >= 3  # one chunk per 10,000-row batch, not one body
    with home.client().stream("GET", f"{EXPORT}.parquet") as response:
        body = b"".join(response.iter_raw())
    assert pq.read_table(pa.BufferReader(body)).num_rows == 25_000


def test_geojson_for_datasets_with_coordinates(home: ApiHome) -> None:
    home.add_dataset("bus-stops")
    stops = pa.table({"stop_id": [1, 2, 3], "name": ["Main St", "Elm", "Depot"],
                      "latitude": [40.71, 40.72, None], "longitude": [-74.0, -74.01, -74.02]})
    home.publish(stops, dataset="bus-stops", schema=STOPS_SCHEMA)
    client = home.client()
    collection = client.get("/api/v1/datasets/bus-stops/export.geojson").json()
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 3
    first = collection["features"][0]
    assert first["geometry"] == {"type": "Point", "coordinates": [-74.0, 40.71]}
    assert first["properties"] == {"stop_id": 1, "name": "Main St"}
    assert collection["features"][2]["geometry"] is None
    refused = client.get(f"{EXPORT}.geojson")
    assert refused.status_code == 400 and "coordinate" in refused.json()["error"]["message"]


def test_pinned_exports_have_etags(home: ApiHome) -> None:
    client = home.client()
    first = client.get(f"{EXPORT}.csv", params={"release": 1})
    assert first.headers["cache-control"].endswith("immutable")
    again = client.get(f"{EXPORT}.csv", params={"release": 1}, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert client.get(f"{EXPORT}.xml").status_code == 400
