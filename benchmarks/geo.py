"""Geo filters on 10,000,000 points and 100,000 polygons, and webhook fan-out to 1,000 subscriptions.

    .venv/bin/python -m benchmarks geo        (first run builds the releases under BENCH_GEO_DIR)

Data: ``BENCH_GEO_POINTS`` (default 10,000,000) random points over the continental United States and
``BENCH_GEO_POLYGONS`` (default 100,000) small random quadrilaterals over the same box, written by the
publish stage's own code (``catalog.typed_table.write_typed_parquet_file`` from staged text Parquet):
GEOMETRY columns, bounding-box helper columns, Hilbert order, snappy, row groups sized by
``catalog.typed_table.geometry_row_group`` (65,536 rows for the points, 16,384 for the polygons). The
releases are read through the API's query engine (``api.query.fetch_rows``, what ``GET .../rows`` runs),
from Parquet (they are above the in-memory table budget).

Measured (median and p90 over ``BENCH_GEO_QUERIES`` queries at random places, default 40):
1. ``near=LAT,LON,500&order=distance`` (a 100-row page, nearest first) on the points;
2. ``bbox`` of about 2 km x 2 km on the points (a 100-row page);
3. ``contains=LAT,LON`` on the polygons (all matches);
each against the baseline of the same exact predicate on the geometry without the bounding-box
conditions (what a layout without helper columns costs: every row group is read; ``BENCH_GEO_BASELINE``
queries, default 5), and 1-2 also against the layout before this one, in turns with ours: the same rows in
16,384-row groups, filtered by the four-column box and the geometry distance.
4. Webhook fan-out (``benchmarks/geo_webhooks.py``): one event queued to 1,000 subscriptions whose target
is a loopback HTTP server in another process; deliveries per second of ``Dispatcher.run_due`` (signing,
resolving, the pinned POST, the log update).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from api.engine import QueryEngine
from api.geo import GeoFilter, parse_geo_params
from api.query import RowsQuery, fetch_rows, parse_order, schema_fields
from benchmarks.geo_webhooks import fan_out
from catalog.geometry import published_schema
from catalog.models import Release
from catalog.typed_table import write_typed_parquet_file
from opendata.settings import Settings

WORK = Path(os.environ.get("BENCH_GEO_DIR", "/tmp/bench-geo"))
POINTS = int(os.environ.get("BENCH_GEO_POINTS", "10000000"))
POLYGONS = int(os.environ.get("BENCH_GEO_POLYGONS", "100000"))
QUERIES = int(os.environ.get("BENCH_GEO_QUERIES", "40"))
BASELINE = max(1, int(os.environ.get("BENCH_GEO_BASELINE", "5")))  # queries of the (slow) no-bbox baseline
BOX = (-124.0, 25.0, -67.0, 49.0)
POINT_SCHEMA: dict[str, Any] = {"fields": [
    {"name": "id", "type": "integer"}, {"name": "lat", "type": "number"}, {"name": "lon", "type": "number"},
]}
POLYGON_SCHEMA: dict[str, Any] = {"fields": [
    {"name": "id", "type": "integer"}, {"name": "area", "type": "string", "geometry": "wkt"},
]}


def build(home: Path) -> tuple[Path, Path]:
    releases = home / "public" / "releases"
    points, polygons = releases / "points" / "1" / "data.parquet", releases / "polygons" / "1" / "data.parquet"
    west, south, east, north = BOX
    if not points.exists():
        points.parent.mkdir(parents=True, exist_ok=True)
        staged = WORK / "points-text.parquet"
        duckdb.sql(
            f"COPY (SELECT CAST(i AS VARCHAR) AS id, CAST({south} + random() * {north - south} AS VARCHAR) AS lat, "
            f"CAST({west} + random() * {east - west} AS VARCHAR) AS lon FROM range({POINTS}) t(i)) "
            f"TO '{staged}' (FORMAT parquet)"
        )
        started = time.perf_counter()
        write_typed_parquet_file(staged, POINT_SCHEMA, points, points={"location": ("lat", "lon")},
                                 memory_limit="1GB", spill=WORK)
        print(f"published {POINTS:,} points in {time.perf_counter() - started:.1f} s")
        staged.unlink()
    if not polygons.exists():
        polygons.parent.mkdir(parents=True, exist_ok=True)
        staged = WORK / "polygons-text.parquet"
        duckdb.sql(
            f"COPY (SELECT CAST(i AS VARCHAR) AS id, printf('POLYGON((%f %f, %f %f, %f %f, %f %f, %f %f))', "
            "x, y, x + w, y, x + w, y + h, x, y + h, x, y) AS area FROM (SELECT i, "
            f"{west} + random() * {east - west} AS x, {south} + random() * {north - south} AS y, "
            f"0.02 + random() * 0.2 AS w, 0.02 + random() * 0.2 AS h FROM range({POLYGONS}) t(i))) "
            f"TO '{staged}' (FORMAT parquet)"
        )
        write_typed_parquet_file(staged, POLYGON_SCHEMA, polygons, memory_limit="1GB", spill=WORK)
        staged.unlink()
    return points, polygons


def previous_layout(points: Path) -> Path:
    """The same points as the layout before row groups grew with the table: 16,384-row groups (same order)."""
    target = points.parent.parent.parent / "points-16k" / "1" / "data.parquet"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        duckdb.sql(f"COPY (SELECT * FROM read_parquet('{points}')) TO '{target}' "
                   "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 16384)")
    return target


def release(name: str, rows: int, schema: dict[str, Any]) -> Release:
    return Release(dataset=name, number=1, state="published", created_at="2024-01-01T00:00:00Z", rows=rows,
                   table_schema=schema, folder=f"{name}/1", files={}, run_id="bench", policy_hash="bench")


def timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def report(label: str, ours: list[float], baseline: list[float]) -> None:
    p50, base = statistics.median(ours), statistics.median(baseline)
    p90 = statistics.quantiles(ours, n=10)[-1]
    print(f"{label:<44} p50 {p50:8.1f} ms  p90 {p90:8.1f} ms  | without bbox columns p50 {base:8.1f} ms"
          f"  ({base / p50:5.1f}x)")


def before(label: str, ours: list[float], previous: list[float]) -> None:
    p50, base = statistics.median(ours), statistics.median(previous)
    print(f"{'  ' + label:<44} p50 {base:8.1f} ms  (ours {base / p50:4.1f}x faster; interleaved with ours)")


def geo_queries(engine: QueryEngine, points: Release, polygons: Release, points_16k: Release) -> None:
    rng = random.Random(7)
    west, south, east, north = BOX
    places = [(south + rng.random() * (north - south), west + rng.random() * (east - west)) for _ in range(QUERIES)]

    def page(target: Release, params: dict[str, str], order: str | None = None, exact_only: bool = False,
             limit: int = 100, generic: bool = False) -> int:
        geo = parse_geo_params(target.table_schema, params)
        if generic and geo is not None:  # as before point columns had their own conditions
            geo = GeoFilter(geo.column, near=geo.near, bbox=geo.bbox, contains=geo.contains, points=False)
        query = RowsQuery(columns=list(schema_fields(target)), order=parse_order(
            {**schema_fields(target)}, order), geo=geo)
        if exact_only:  # the baseline: only the exact predicate (drop the bounding-box conditions)
            query = _exact_only(query)
        found = fetch_rows(engine, target, query, limit=limit, position=None, filters_hash="bench")
        return len(found.rows)

    page(points, {"near": f"{places[0][0]},{places[0][1]},500"}, "distance")  # warm: extension, footers
    page(points_16k, {"near": f"{places[0][0]},{places[0][1]},500"}, "distance", generic=True)
    near: list[float] = []
    near_before: list[float] = []
    for p in places:  # ours and the previous layout in turns, so both see the same load
        near.append(timed(lambda p=p: page(points, {"near": f"{p[0]},{p[1]},500"}, "distance")))
        near_before.append(timed(lambda p=p: page(points_16k, {"near": f"{p[0]},{p[1]},500"}, "distance",
                                                  generic=True)))
    near_base = [timed(lambda p=p: page(points, {"near": f"{p[0]},{p[1]},500"}, "distance", True))
                 for p in places[:BASELINE]]
    report(f"near 500 m, order=distance ({POINTS:,} points)", near, near_base)
    before("before: 16,384-row groups, 4-column box", near, near_before)
    boxes = [{"bbox": f"{p[1]},{p[0]},{p[1] + 0.025},{p[0] + 0.018}"} for p in places]
    bbox: list[float] = []
    bbox_before: list[float] = []
    for b in boxes:
        bbox.append(timed(lambda b=b: page(points, b)))
        bbox_before.append(timed(lambda b=b: page(points_16k, b, generic=True)))
    bbox_base = [timed(lambda b=b: page(points, b, exact_only=True)) for b in boxes[:BASELINE]]
    report(f"bbox ~2 km x 2 km ({POINTS:,} points)", bbox, bbox_base)
    before("before: 16,384-row groups, 4-column box", bbox, bbox_before)
    contains = [timed(lambda p=p: page(polygons, {"contains": f"{p[0]},{p[1]}"}, limit=1000)) for p in places]
    contains_base = [timed(lambda p=p: page(polygons, {"contains": f"{p[0]},{p[1]}"}, None, True, 1000))
                     for p in places[:BASELINE]]
    report(f"contains ({POLYGONS:,} polygons)", contains, contains_base)


class ExactOnly(GeoFilter):
    """The baseline: a geo filter's exact predicate on the geometry alone, without its bounding-box conditions
    (and without the point shortcut, which reads the helper columns)."""

    def conditions(self) -> list[str]:
        return [c for c in super().conditions() if "__bbox_" not in c]


def _exact_only(query: RowsQuery) -> RowsQuery:
    geo = query.geo
    assert geo is not None
    exact = ExactOnly(geo.column, near=geo.near, bbox=geo.bbox, contains=geo.contains, intersects=geo.intersects,
                      points=False)
    return RowsQuery(columns=query.columns, filters=query.filters, order=query.order, geo=exact)


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    home = WORK / "home"
    points_file, _ = build(home)
    previous_layout(points_file)
    settings = Settings(home=home, release_memory_rows=0, query_timeout_seconds=300)
    engine = QueryEngine(settings)
    points = release("points", POINTS, published_schema(POINT_SCHEMA, {"location": ("lat", "lon")}))
    polygons = release("polygons", POLYGONS, published_schema(POLYGON_SCHEMA, {}))
    points_16k = release("points-16k", POINTS, points.table_schema)
    geo_queries(engine, points, polygons, points_16k)
    engine.close()
    fan_out()  # benchmarks/geo_webhooks.py
