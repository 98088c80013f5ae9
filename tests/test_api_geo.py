"""Geo filters against exact answers computed another way: shapely (and a haversine) on the same rows.

The rows are third-party data (the NWS CAP snapshot's polygons, NYC 311 request locations), published
through the real publish path; the API runs on the real DuckDB engine with DuckDB spatial from its wheel.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from fastapi.testclient import TestClient
from openapi_spec_validator.validation import OpenAPIV31SpecValidator
from shapely.geometry import Point, Polygon, box, shape

from catalog.typed_table import geometry_row_group
from tests.api_fixtures import ApiHome, build_home
from tests.geo_fixtures import ALERTS_CSV, NYC_311_CSV, haversine_m, publish_alerts, publish_nyc_311

ALERTS = "/api/v1/datasets/weather-alerts"
NYC = "/api/v1/datasets/nyc-311"
FARM = (31.8, -86.55)  # inside the first CAP polygon of the snapshot (Alabama)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> ApiHome:
    home = build_home(tmp_path_factory.mktemp("geo"))
    publish_alerts(home)
    publish_nyc_311(home)
    return home


@pytest.fixture(scope="module")
def client(home: ApiHome) -> TestClient:
    return home.client()


def cap_polygons() -> dict[str, Polygon]:
    """Alert id -> its CAP polygon as shapely builds it (CAP gives "lat,lon"; shapely takes (x=lon, y=lat))."""
    found = {}
    with open(ALERTS_CSV, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["polygon"]:
                pairs = [p.split(",") for p in row["polygon"].split()]
                found[row["id"]] = Polygon([(float(lon), float(lat)) for lat, lon in pairs])
    return found


def nyc_points() -> dict[int, tuple[float, float]]:
    with open(NYC_311_CSV, newline="", encoding="utf-8") as handle:
        return {int(r["Unique Key"]): (float(r["Latitude"]), float(r["Longitude"]))
                for r in csv.DictReader(handle) if r["Latitude"] and r["Longitude"]}


def all_rows(client: TestClient, url: str, params: dict[str, Any], body: Any = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 7, **({"cursor": cursor} if cursor else {})}
        response = client.post(url, params=query, json=body) if body is not None else client.get(url, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        rows += page["rows"]
        cursor = page["next"]
        if not cursor:
            return rows


def test_geometry_is_served_as_geojson(client: TestClient) -> None:
    polygons = cap_polygons()
    rows = all_rows(client, f"{ALERTS}/rows", {})
    assert len(rows) == 164
    with_area = [r for r in rows if r["polygon"] is not None]
    assert len(with_area) == len(polygons) == 99
    for row in with_area:
        assert row["polygon"]["type"] == "Polygon"
        assert shape(row["polygon"]).equals(polygons[row["id"]])  # lon/lat order, as GeoJSON wants


def test_contains_is_shapely_covers(client: TestClient) -> None:
    polygons = cap_polygons()
    for lat, lon in [FARM, (33.9, -86.45), (34.0, -86.5), (45.0, -100.0), (61.2, -149.9)]:
        rows = all_rows(client, f"{ALERTS}/rows", {"contains": f"{lat},{lon}", "select": "id"})
        expected = {i for i, p in polygons.items() if p.covers(Point(lon, lat))}
        assert {r["id"] for r in rows} == expected
    assert all_rows(client, f"{ALERTS}/rows", {"contains": "{},{}".format(*FARM)})  # the farm is covered


def test_bbox_is_shapely_intersects(client: TestClient) -> None:
    polygons = cap_polygons()
    for west, south, east, north in [(-87, 31, -86, 33), (-100, 25, -80, 35), (0, 0, 1, 1)]:
        rows = all_rows(client, f"{ALERTS}/rows", {"bbox": f"{west},{south},{east},{north}", "select": "id"})
        expected = {i for i, p in polygons.items() if p.intersects(box(west, south, east, north))}
        assert {r["id"] for r in rows} == expected


def test_near_on_points_matches_haversine_and_orders_by_distance(client: TestClient) -> None:
    points = nyc_points()
    lat, lon, metres = 40.75, -73.98, 1500.0
    rows = all_rows(client, f"{NYC}/rows", {"near": f"{lat},{lon},{metres}", "order": "distance",
                                            "select": "Unique Key,location"})
    distances = {k: haversine_m(lat, lon, *p) for k, p in points.items()}
    expected = {k for k, d in distances.items() if d <= metres}
    assert len(expected) > 10
    assert {r["Unique Key"] for r in rows} == expected
    got = [r["distance_m"] for r in rows]
    assert got == sorted(got)
    for row in rows:
        assert row["distance_m"] == pytest.approx(distances[row["Unique Key"]], rel=1e-6)
        assert row["location"]["type"] == "Point"
        assert row["location"]["coordinates"] == [points[row["Unique Key"]][1], points[row["Unique Key"]][0]]


def test_bbox_on_points_is_shapely_intersects(client: TestClient) -> None:
    """Point columns take the short path (two BETWEENs on the helper columns, no spatial predicate)."""
    points = nyc_points()
    for west, south, east, north in [(-74.0, 40.7, -73.95, 40.76), (-73.9, 40.6, -73.7, 40.8), (0, 0, 1, 1)]:
        rows = all_rows(client, f"{NYC}/rows", {"bbox": f"{west},{south},{east},{north}", "select": "Unique Key"})
        area = box(west, south, east, north)
        expected = {k for k, (lat, lon) in points.items() if area.intersects(Point(lon, lat))}
        assert {r["Unique Key"] for r in rows} == expected
    assert expected == set() and len({r["Unique Key"] for r in all_rows(
        client, f"{NYC}/rows", {"bbox": "-74.0,40.7,-73.95,40.76", "select": "Unique Key"})}) > 10


def test_points_are_served_as_their_geometry_reads_without_decoding_it(home: ApiHome, client: TestClient) -> None:
    """A page builds a Point's GeoJSON from its helper DOUBLEs: the same object DuckDB spatial makes of the
    stored geometry (``ST_AsGeoJSON``), for every row, nulls included."""
    import duckdb

    from opendata.duckdb_extensions import load_spatial

    release = home.catalog.release("nyc-311")
    con = duckdb.connect()
    for statement in load_spatial():
        con.execute(statement)
    stored = {int(key): None if text is None else json.loads(text) for key, text in con.execute(
        'SELECT "Unique Key", ST_AsGeoJSON(location) FROM read_parquet(?)',
        [str(home.settings.paths.releases / release.folder / "data.parquet")]).fetchall()}
    served: dict[int, Any] = {}
    cursor = None
    while True:
        page = client.get(f"{NYC}/rows", params={"select": "Unique Key,location", "limit": 1000,
                                                  **({"cursor": cursor} if cursor else {})}).json()
        served |= {r["Unique Key"]: r["location"] for r in page["rows"]}
        if not (cursor := page["next"]):
            break
    assert served == stored and None in served.values() and len(served) > 100


def test_near_on_polygons_is_the_distance_to_the_area(client: TestClient) -> None:
    polygons = cap_polygons()
    rows = all_rows(client, f"{ALERTS}/rows", {"near": "{},{},0".format(*FARM), "select": "id"})
    assert {r["id"] for r in rows} == {i for i, p in polygons.items() if p.covers(Point(FARM[1], FARM[0]))}
    assert all(r["distance_m"] == 0 for r in rows)


def test_intersects_by_post_body_is_shapely_intersects(client: TestClient) -> None:
    polygons = cap_polygons()
    area = {"type": "Polygon", "coordinates": [[[-90, 30], [-84, 30], [-84, 35], [-90, 30]]]}
    rows = all_rows(client, f"{ALERTS}/rows", {"select": "id"}, body={"intersects": area})
    expected = {i for i, p in polygons.items() if p.intersects(shape(area))}
    assert expected and {r["id"] for r in rows} == expected
    line = {"type": "LineString", "coordinates": [[-74.0, 40.70], [-73.95, 40.80]]}
    points = {k: Point(p[1], p[0]) for k, p in nyc_points().items()}
    near_line = shape(line).buffer(0.002)
    got = client.post(f"{ALERTS}/aggregate", json={"intersects": area}).json()
    assert got["rows"] == [{"count": len(expected)}]
    got_points = all_rows(client, f"{NYC}/rows", {"select": "Unique Key"},
                          body={"intersects": json.loads(shapely.to_geojson(near_line))})
    assert {r["Unique Key"] for r in got_points} == {k for k, p in points.items() if near_line.intersects(p)}


def test_geo_filters_on_aggregates_and_exports(client: TestClient) -> None:
    polygons = cap_polygons()
    lat, lon = 33.9, -86.45
    covering = {i for i, p in polygons.items() if p.covers(Point(lon, lat))}
    got = client.get(f"{ALERTS}/aggregate", params={"contains": f"{lat},{lon}", "group_by": "event"}).json()
    assert sum(r["count"] for r in got["rows"]) == len(covering) > 0
    collection = client.get(f"{ALERTS}/export.geojson", params={"contains": f"{lat},{lon}"}).json()
    assert {f["properties"]["id"] for f in collection["features"]} == covering
    assert all(shape(f["geometry"]).equals(polygons[f["properties"]["id"]]) for f in collection["features"])
    parquet = client.get(f"{NYC}/export.parquet", params={"near": "40.75,-73.98,1500"})
    table = pq.read_table(pa.BufferReader(parquet.content))
    assert json.loads(table.schema.metadata[b"geo"])["primary_column"] == "location"
    points = nyc_points()
    for key, wkb, distance in zip(table.column("Unique Key").to_pylist(), table.column("location").to_pylist(),
                                  table.column("distance_m").to_pylist(), strict=True):
        assert shapely.from_wkb(wkb).equals(Point(points[key][1], points[key][0]))
        assert distance <= 1500


def test_or_and_missing_values_make_active_alerts_one_request(client: TestClient) -> None:
    with open(ALERTS_CSV, newline="", encoding="utf-8") as handle:
        alerts = list(csv.DictReader(handle))
    now = "2018-08-16T06:00:00"
    expected = {a["id"] for a in alerts if not a["expires"] or a["expires"] > now}
    assert any(not a["expires"] for a in alerts)
    rows = all_rows(client, f"{ALERTS}/rows", {"expires__gt": now, "or": "expires__isnull", "select": "id"})
    assert {r["id"] for r in rows} == expected
    plain = all_rows(client, f"{ALERTS}/rows", {"expires__gt": now, "select": "id"})
    assert len(plain) == len(expected) - 1  # the alert without expiry drops out without the or=
    severe = client.get(f"{ALERTS}/rows", params=[("severity", "Severe"), ("or", "severity=Extreme"),
                                                  ("limit", "1000")]).json()["rows"]
    assert {r["severity"] for r in severe} == {"Severe", "Extreme"} or {r["severity"] for r in severe} == {"Severe"}
    assert len(severe) == sum(a["severity"] in ("Severe", "Extreme") for a in alerts)
    covered_and_active = all_rows(client, f"{ALERTS}/rows", {
        "contains": "{},{}".format(*FARM), "expires__gt": now, "or": "expires__isnull", "select": "id"})
    polygons = cap_polygons()
    assert {r["id"] for r in covered_and_active} == {
        i for i in expected if i in polygons and polygons[i].covers(Point(FARM[1], FARM[0]))}


@pytest.mark.parametrize(("url", "params", "parameter"), [
    (f"{ALERTS}/rows", {"near": "32,-86"}, "near"),
    (f"{ALERTS}/rows", {"near": "132,-86,10"}, "near"),
    (f"{ALERTS}/rows", {"bbox": "-80,30,-90,35"}, "bbox"),
    (f"{ALERTS}/rows", {"contains": "abc"}, "contains"),
    (f"{ALERTS}/rows", {"intersects": '{"type": "Circle"}'}, "intersects"),
    (f"{ALERTS}/rows", {"order": "distance"}, "order"),
    (f"{ALERTS}/rows", {"or": "expires__isnull"}, "or"),
    (f"{ALERTS}/rows", {"or": "nope__isnull"}, "or"),
    (f"{ALERTS}/rows", {"contains": "1,1", "geometry": "event"}, "geometry"),
    ("/api/v1/datasets/city-311-requests/rows", {"near": "1,1,10"}, "near"),
    (f"{ALERTS}/aggregate", {"bbox": "1,2,3"}, "bbox"),
    (f"{ALERTS}/export.csv", {"contains": "95,1"}, "contains"),
])
def test_bad_geo_parameters_get_a_clear_error(client: TestClient, url: str, params: dict[str, str],
                                              parameter: str) -> None:
    response = client.get(url, params=params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["detail"]["parameter"] == parameter and "Traceback" not in error["message"]


def test_an_unreadable_geojson_body_is_a_clear_error(client: TestClient) -> None:
    bad = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}  # not a closed ring
    response = client.post(f"{ALERTS}/rows", json={"intersects": bad})
    assert response.status_code == 400 and "error" in response.json()


def test_publishing_lays_geometry_out_for_row_group_skipping(home: ApiHome, tmp_path: Path) -> None:
    release = home.catalog.release("nyc-311")
    path = home.settings.paths.releases / release.folder / "data.parquet"
    names = pq.read_schema(path).names
    assert "location" in names and "__bbox_location_xmin" in names
    assert [f["name"] for f in release.table_schema["fields"]][-1] == "location"
    assert release.table_schema["fields"][-1]["type"] == "geojson"
    assert b"geo" in pq.read_metadata(path).metadata  # DuckDB writes the GeoParquet metadata
    assert pq.read_metadata(path).row_group(0).num_rows <= 16384
    # groups grow with the table: checking every group's statistics costs more than decoding a larger one
    assert [geometry_row_group(n) for n in (100, 100_000, 1_000_000, 10_000_000, 10**9)] == [
        16384, 16384, 32768, 65536, 131072]


def test_the_dataset_openapi_declares_geo_filters_and_or(client: TestClient) -> None:
    for name in ("weather-alerts", "nyc-311"):
        document = client.get(f"/api/v1/datasets/{name}/openapi.json").json()
        assert [e.message for e in OpenAPIV31SpecValidator(document).iter_errors()] == []
        item = document["paths"][f"/api/v1/datasets/{name}/rows"]
        names = {p["name"] for p in item["get"]["parameters"]}
        assert {"near", "bbox", "contains", "intersects", "geometry", "or"} <= names
        body = item["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body["required"] == ["intersects"]
        assert "intersects" not in {p["name"] for p in item["post"]["parameters"]}
        assert item["post"]["operationId"] != item["get"]["operationId"]
    near = next(p for p in item["get"]["parameters"] if p["name"] == "near")
    assert re.fullmatch(near["schema"]["pattern"], "40.75,-73.98,500")
    geometry = next(p for p in item["get"]["parameters"] if p["name"] == "geometry")
    assert geometry["schema"]["enum"] == ["location"]


def test_ckan_datastore_search_serves_geometry_as_geojson(client: TestClient) -> None:
    polygons = cap_polygons()
    answer = client.get("/api/3/action/datastore_search", params={"resource_id": "weather-alerts", "limit": 200})
    assert answer.status_code == 200, answer.text
    result = answer.json()["result"]
    assert {"id": "polygon", "type": "json"} in result["fields"]
    with_area = [r for r in result["records"] if r["polygon"] is not None]
    assert len(with_area) == len(polygons)
    for record in with_area:
        assert shape(record["polygon"]).equals(polygons[record["id"]])  # the rows API's GeoJSON, lon/lat
    nyc = client.get("/api/3/action/datastore_search", params={"resource_id": "nyc-311", "limit": 3}).json()
    assert all(r["location"]["type"] == "Point" for r in nyc["result"]["records"] if r["location"])


def test_the_dataset_page_shows_geometry_samples_as_wkt(client: TestClient) -> None:
    page = client.get("/datasets/nyc-311")
    assert page.status_code == 200
    shown = re.findall(r"POINT \((-?[0-9.]+) (-?[0-9.]+)\)", page.text)
    assert len(shown) >= 5  # lon lat, as in WKT, of rows of the release
    assert {(float(lat), float(lon)) for lon, lat in shown} <= set(nyc_points().values())
    assert "\\x01" not in page.text and "b&#39;" not in page.text
    alerts = client.get("/datasets/weather-alerts").text
    assert "POLYGON ((" in alerts and "…" in alerts  # long areas are shortened in a cell
