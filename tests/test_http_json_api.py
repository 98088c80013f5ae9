"""The HTTP JSON source on APIs as they are: offset/limit paging with a total, records and columns by
JSONPath, GeoJSON features (a captured api.weather.gov answer) published with no script."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pytest

from opendata.duckdb_extensions import load_spatial
from opendata.errors import JobFileError, SourceError
from opendata.settings import Settings
from publishers.job import load_job
from publishers.runner import run_job
from tests import publishers_fixtures
from tests.publishers_fixtures import DATA, SHARED_DATA, LocalHttp, read_all, write_source_job

local_http = publishers_fixtures.local_http

NWS = DATA / "nws_api"
ALERT_COLUMNS = {"id": "$.properties.id", "event": "$.properties.event", "severity": "$.properties.severity",
                 "area": "$.properties.areaDesc", "onset": "$.properties.onset", "expires": "$.properties.expires",
                 "geometry": "$.geometry"}
ALERT_FIELDS = [{"name": "id", "type": "string"}, {"name": "event", "type": "string"},
                {"name": "severity", "type": "string",
                 "constraints": {"enum": ["Extreme", "Severe", "Moderate", "Minor", "Unknown"]}},
                {"name": "area", "type": "string"}, {"name": "onset", "type": "datetime", "format": "any"},
                {"name": "expires", "type": "datetime", "format": "any"}, {"name": "geometry", "type": "geojson"}]


def _serve_json(local_http: LocalHttp, path: str, body: object) -> str:
    data = json.dumps(body).encode()
    local_http.route(path, lambda *_: (200, {"Content-Type": "application/geo+json"}, data))
    return local_http.base + path


def _release_rows(settings: Settings, folder: str) -> list[dict[str, object]]:
    data = settings.paths.releases / folder / "data.parquet"
    relation = duckdb.sql(f"SELECT * FROM read_parquet('{data}') ORDER BY id")
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def test_nws_alerts_geojson_publishes_through_the_http_json_source_with_no_script(
    tmp_path: Path, local_http: LocalHttp, settings: Settings
) -> None:
    captured = json.loads((NWS / "alerts_active_zone_second.json").read_text())
    url = _serve_json(local_http, "/alerts/active", captured)
    source = {"type": "http_json", "url": url, "params": {"zone": "ORZ006"}, "records": "$.features[*]",
              "columns": ALERT_COLUMNS, "headers": {"Accept": "application/geo+json"}}
    job = write_source_job(tmp_path / "jobs", "nws-alerts", source, ALERT_FIELDS)
    result = run_job(job, settings)
    assert result.run.state == "succeeded", result.run.error
    assert result.release is not None
    rows = _release_rows(settings, result.release.folder)
    want = sorted((f["properties"]["id"], f["properties"]["event"], f["properties"]["severity"],
                   f["properties"]["areaDesc"]) for f in captured["features"])
    assert [(r["id"], r["event"], r["severity"], r["area"]) for r in rows] == want
    # -08:00 read as the instant it names, published in UTC (TIMESTAMPTZ, issue 19)
    assert {str(r["onset"]) for r in rows} == {"2019-12-20 21:34:00+00:00"}
    assert all(r["geometry"] is None for r in rows)  # zone-based alerts carry no polygon
    package = json.loads((settings.paths.releases / result.release.folder / "datapackage.json").read_text())
    types = {f["name"]: f["type"] for f in package["resources"][0]["schema"]["fields"]}
    assert types["geometry"] == "geojson"


def _cap_features() -> list[dict[str, object]]:
    """The storm-based warnings of the NWS CAP/Atom snapshot, as api.weather.gov gives them (GeoJSON)."""
    ns = {"a": "http://www.w3.org/2005/Atom", "cap": "urn:oasis:names:tc:emergency:cap:1.1"}
    feed = ET.parse(SHARED_DATA / "nws_cap" / "nws_atom_feed_example.xml").getroot()
    features = []
    for entry in feed.findall("a:entry", ns):
        polygon = (entry.findtext("cap:polygon", "", ns) or "").split()
        if not polygon:
            continue
        ring = [[float(p.split(",")[1]), float(p.split(",")[0])] for p in polygon]
        features.append({"id": entry.findtext("a:id", "", ns), "type": "Feature",
                         "geometry": {"type": "Polygon", "coordinates": [ring]},
                         "properties": {"id": entry.findtext("a:id", "", ns),
                                        "event": entry.findtext("cap:event", "", ns),
                                        "severity": entry.findtext("cap:severity", "", ns),
                                        "areaDesc": entry.findtext("cap:areaDesc", "", ns),
                                        "onset": entry.findtext("cap:effective", "", ns),
                                        "expires": entry.findtext("cap:expires", "", ns)}})
    return features


def test_offset_paging_reads_every_feature_to_the_total_with_polygons_as_geojson(
    tmp_path: Path, local_http: LocalHttp, settings: Settings
) -> None:
    features = _cap_features()
    assert len(features) == 99

    def page(path: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        body = {"type": "FeatureCollection", "features": features[offset:offset + limit],
                "meta": {"total": len(features)}}
        return 200, {}, json.dumps(body).encode()

    local_http.route("/warnings", page)
    source = {"type": "http_json", "url": local_http.base + "/warnings", "records": "$.features[*]",
              "columns": ALERT_COLUMNS,
              "pagination": {"style": "offset", "page_size": 40, "total_path": "$.meta.total"}}
    job = write_source_job(tmp_path / "jobs", "storm-warnings", source, ALERT_FIELDS)
    result = run_job(job, settings)
    assert result.run.state == "succeeded", result.run.error
    assert [q["offset"] for p, q, _ in local_http.requests] == [["0"], ["40"], ["80"]]
    assert result.release is not None
    rows = _release_rows(settings, result.release.folder)
    assert len(rows) == 99
    # a geojson field publishes as geometry (issue 16): read it back as GeoJSON with DuckDB spatial
    con = duckdb.connect()
    for statement in load_spatial():
        con.execute(statement)
    data = settings.paths.releases / result.release.folder / "data.parquet"
    text = con.execute(f"SELECT ST_AsGeoJSON(geometry) FROM read_parquet('{data}') ORDER BY id LIMIT 1").fetchone()
    first = json.loads(str(text[0]))
    assert first["type"] == "Polygon" and len(first["coordinates"][0]) >= 4


def test_an_answer_short_of_its_total_is_an_error_not_a_short_release(tmp_path: Path, local_http: LocalHttp) -> None:
    rows = [{"id": i, "place": f"town {i}"} for i in range(25)]

    def page(path: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        offset = int(query["offset"][0])
        given = rows[offset:offset + 10] if offset < 20 else []  # the server stops before the end
        return 200, {}, json.dumps({"total": 25, "data": given}).encode()

    local_http.route("/short", page)
    source = {"type": "http_json", "url": local_http.base + "/short",
              "pagination": {"style": "offset", "page_size": 10, "total_path": "total"}}
    job = write_source_job(tmp_path, "short", source, [{"name": "id", "type": "integer"},
                                                        {"name": "place", "type": "string"}])
    with pytest.raises(SourceError, match="reported 25 rows .* but gave 20"):
        read_all(job)


def test_columns_as_a_list_pick_a_subset_of_the_keys(tmp_path: Path, local_http: LocalHttp) -> None:
    body = [{"id": 1, "place": "a", "owner_email": "x@example.test"}, {"id": 2, "place": "b", "owner_email": "y"}]
    url = _serve_json(local_http, "/subset", body)
    source = {"type": "http_json", "url": url, "columns": ["id", "place"]}
    table = read_all(write_source_job(tmp_path, "subset", source, [{"name": "id", "type": "integer"},
                                                                   {"name": "place", "type": "string"}]))
    assert table.column_names == ["id", "place"] and table.column("place").to_pylist() == ["a", "b"]


def test_a_key_in_a_later_page_names_the_record_and_the_fix(tmp_path: Path, local_http: LocalHttp) -> None:
    def page(path: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        number = int(query["page"][0])
        rows = [{"id": 1}] if number == 1 else ([{"id": 2, "secret": "s"}] if number == 2 else [])
        return 200, {}, json.dumps(rows).encode()

    local_http.route("/late", page)
    source = {"type": "http_json", "url": local_http.base + "/late", "pagination": {"style": "page"}}
    job = write_source_job(tmp_path, "late", source, [{"name": "id", "type": "integer"}])
    with pytest.raises(SourceError, match="record 2 has key.s. secret that the first 1 record"):
        read_all(job)


def test_a_path_that_does_not_parse_is_a_job_file_error_naming_the_column(tmp_path: Path) -> None:
    source = {"type": "http_json", "url": "http://127.0.0.1:9/x", "columns": {"event": "$.properties[event"}}
    job = write_source_job(tmp_path, "badpath", source, [{"name": "event", "type": "string"}])
    with pytest.raises(JobFileError, match="columns.event: '.*' is not a JSONPath"):
        load_job(job)
