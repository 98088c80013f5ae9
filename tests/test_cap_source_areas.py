"""The CAP source keeps areas as geometry: polygons (reversed from CAP's "lat,lon") and circles, through
the real publish path, checked against shapely on the NWS feed's own polygons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import Point, Polygon, shape

from publishers.sources.cap_feed import COLUMNS
from tests.api_fixtures import build_home
from tests.geo_fixtures import REPO, haversine_m, publish_typed
from tests.publishers_fixtures import SHARED_DATA, read_all, write_source_job

SCHEMA = [{"name": c, "type": "geojson" if c == "area" else "string"} for c in COLUMNS]
AMBER = REPO / "datasets" / "weather" / "data" / "cap_amber_alert_example.xml"


def feed_path() -> Path:
    feed = SHARED_DATA / "nws_cap" / "nws_atom_feed_example.xml"
    return feed if feed.exists() else REPO / "datasets" / "weather" / "data" / "nws_atom_feed_example.xml"


def test_feed_polygons_publish_as_geometry(tmp_path: Path) -> None:
    table = read_all(write_source_job(tmp_path, "alerts", {"type": "cap_atom", "path": str(feed_path())}, SCHEMA))
    rows = table.to_pylist()
    home = build_home(tmp_path / "api")
    publish_typed(home, "cap-alerts", table, {"fields": SCHEMA})
    served = home.client().get("/api/v1/datasets/cap-alerts/rows", params={"limit": 1000,
                                                                          "select": "id,polygon,area"}).json()
    by_id = {r["id"]: r for r in served["rows"]}
    with_polygon = [r for r in rows if r["polygon"]]
    assert len(with_polygon) == 99
    for row in with_polygon:
        expected = Polygon([(float(lon), float(lat)) for lat, lon in (p.split(",") for p in row["polygon"].split())])
        assert shape(by_id[row["id"]]["area"]).equals(expected)
    assert all(by_id[r["id"]]["area"] is None for r in rows if not r["polygon"])


def test_circles_and_full_fields_of_a_cap_12_alert(tmp_path: Path) -> None:
    text = AMBER.read_text(encoding="utf-8")
    assert "<circle>" not in text
    with_circle = text.replace("</areaDesc>", "</areaDesc>\n      <circle>38.47,-120.14 10</circle>", 1)
    source = tmp_path / "amber-circle.xml"
    source.write_text(with_circle, encoding="utf-8")
    [row] = read_all(write_source_job(tmp_path, "amber", {"type": "cap_atom", "path": str(source)}, SCHEMA)).to_pylist()
    assert row["sender"] and row["sent"] and row["scope"] and row["description"]  # the full alert, not the index
    assert row["circle"] == "38.47,-120.14 10"
    area = shape(json.loads(row["area"]))
    ring = list(area.exterior.coords)
    assert len(ring) == 33 and ring[0] == ring[-1]
    for lon, lat in ring:
        assert haversine_m(38.47, -120.14, lat, lon) == pytest.approx(10_000, rel=0.01)
    assert area.contains(Point(-120.14, 38.47))
