"""Spatial SQL: DuckDB spatial's functions over published geometry, and its file readers refused.

A home with a geometry release loads DuckDB spatial into the SQL databases; ST_Read, ST_ReadOSM,
ST_ReadSHP and ST_Read_Meta (GDAL and friends, which read files) must stay unreachable: the guard refuses
them as table functions, and the locked database refuses the files even past the guard.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import duckdb
import pytest
from shapely.geometry import Point

from opendata.duckdb_extensions import load_spatial
from tests.api_fixtures import STAGING_MARKER, ApiHome, TestClient, build_home
from tests.geo_fixtures import NYC_311_CSV, haversine_m, publish_nyc_311

SQL = "/api/v1/sql"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> ApiHome:
    built = build_home(tmp_path_factory.mktemp("sqlgeo"))
    publish_nyc_311(built)
    csv_path, _ = built.write_staging()
    csv_path.write_text(f"name,ssn\n{STAGING_MARKER},123-45-6789\n", encoding="utf-8")
    (csv_path.parent / "raw.geojson").write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},'
        f'"properties":{{"secret":"{STAGING_MARKER}"}}}}]}}', encoding="utf-8")
    return built


@pytest.fixture(scope="module")
def client(home: ApiHome) -> TestClient:
    return home.client()


def files(home: ApiHome) -> dict[str, str]:
    staging = home.settings.paths.staging
    return {"csv": str(staging / "raw.csv"), "geojson": str(staging / "raw.geojson")}


HOSTILE_SPATIAL = [
    "SELECT * FROM ST_Read('{geojson}')",
    "SELECT * FROM ST_Read('{csv}')",
    "SELECT * FROM ST_Read('/vsicurl/https://example.com/x.geojson')",
    "SELECT * FROM ST_ReadOSM('{csv}')",
    "SELECT * FROM ST_ReadSHP('{csv}')",
    "SELECT * FROM ST_Read_Meta('{geojson}')",
    "SELECT * FROM ST_Drivers()",
    "WITH x AS (SELECT * FROM ST_Read('{geojson}')) SELECT * FROM x",
    'SELECT * FROM "nyc-311" JOIN ST_Read(\'{geojson}\') ON true',
]


@pytest.mark.parametrize("template", HOSTILE_SPATIAL)
def test_spatial_file_readers_are_refused(home: ApiHome, client: TestClient, template: str) -> None:
    response = client.get(SQL, params={"sql": template.format(**files(home))})
    assert response.status_code == 400, response.text
    assert STAGING_MARKER not in response.text and "Traceback" not in response.text
    assert response.json()["error"]["type"] == "invalid-query"


def test_spatial_file_readers_are_refused_even_past_the_guard(home: ApiHome) -> None:
    from api.catalog_view import CatalogView
    from api.sql_engine import SqlEngine

    readers = ["SELECT * FROM ST_Read('{geojson}')", "SELECT * FROM ST_Read('{csv}')",
               "SELECT * FROM ST_Read_Meta('{geojson}')"]
    unlocked = duckdb.connect()
    for statement in load_spatial():
        unlocked.execute(statement)
    for template in readers:  # the control: an unlocked database with spatial reads these files
        assert unlocked.execute(template.format(**files(home))).fetchall()
    unlocked.close()
    engine = SqlEngine(home.settings)
    view = CatalogView(home.catalog)
    tables = engine.bound(view, 'SELECT * FROM "nyc-311"')
    with engine.database(tables, spatial=True) as con:  # the database a geometry release's query gets
        assert con.execute("SELECT ST_AsText(ST_Point(1, 2))").fetchone() == ("POINT (1 2)",)  # spatial is loaded
        for template in [*readers, "SELECT * FROM ST_Read('/vsicurl/https://example.com/x.geojson')"]:
            with pytest.raises(duckdb.Error, match="(?i)permission|disabled|could not open"):
                con.execute(template.format(**files(home))).fetchall()
    engine.close()


def test_spatial_functions_answer_over_published_geometry(client: TestClient) -> None:
    sql = ("SELECT \"Unique Key\" AS id, ST_Distance_Sphere(ST_FlipCoordinates(location), ST_Point(40.75, -73.98)) "
           "AS metres FROM \"nyc-311\" WHERE ST_Intersects(location, ST_MakeEnvelope(-74.0, 40.74, -73.96, 40.76)) "
           "ORDER BY id")
    response = client.get(SQL, params={"sql": sql})
    assert response.status_code == 200, response.text
    with open(NYC_311_CSV, newline="", encoding="utf-8") as handle:
        points = {int(r["Unique Key"]): (float(r["Latitude"]), float(r["Longitude"]))
                  for r in csv.DictReader(handle) if r["Latitude"]}
    inside = sorted(k for k, (lat, lon) in points.items() if -74.0 <= lon <= -73.96 and 40.74 <= lat <= 40.76)
    rows: list[dict[str, Any]] = response.json()["rows"]
    assert [r["id"] for r in rows] == inside
    for row in rows:
        assert row["metres"] == pytest.approx(haversine_m(40.75, -73.98, *points[row["id"]]), rel=1e-6)
    assert Point(0, 0).x == 0  # shapely present: the same rows the geo-filter tests check


def test_sql_tables_hide_the_bounding_box_helpers(client: TestClient) -> None:
    response = client.get(SQL, params={"sql": 'SELECT * FROM "nyc-311" LIMIT 1'})
    assert response.status_code == 200, response.text
    assert not [c for c in response.json()["columns"] if c.startswith("__bbox_")]
    assert "location" in response.json()["columns"]


def test_paths_exist(home: ApiHome) -> None:
    assert all(Path(p).is_file() for p in files(home).values())
