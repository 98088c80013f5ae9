"""Geo filters on a release's geometry column: ``near``, ``bbox``, ``contains`` and ``intersects``.

    near=LAT,LON,METRES   rows within METRES of the point (great-circle, metres); adds ``distance_m`` to
                          each row, and ``order=distance`` sorts by it
    bbox=W,S,E,N          rows whose geometry meets the box (west, south, east, north; degrees, W <= E)
    contains=LAT,LON      rows whose geometry holds the point, its boundary included ("which alerts cover
                          my farm")
    intersects=GEOJSON    rows whose geometry meets a GeoJSON geometry (a POST body ``{"intersects": ...}``
                          on the rows, aggregate and export routes, or the query parameter)
    geometry=COLUMN       which geometry column the filters use (default: the first of the schema)

Each filter is two conditions: one on the column's bounding-box helper columns (``catalog.geometry``),
which Parquet row-group statistics and DuckDB zone maps use to skip what cannot match, and the exact
DuckDB spatial predicate. Distances are haversine (``ST_Distance_Sphere``, mean Earth radius, which takes
latitude/longitude axis order, so coordinates are flipped for it) to the geometry's closest point in
longitude/latitude (the point itself for Point columns). Numbers are parsed here and written into the
SQL as float literals; the GeoJSON goes in as a quoted literal and DuckDB spatial parses it.

Point columns (``catalog.geometry.point_columns``: ``geopoint`` fields and a job's ``publish.points``)
are cheaper and just as exact: a point's box is the point, so the box conditions are two ``BETWEEN``s on
``__bbox_g_xmin`` / ``__bbox_g_ymin`` (half the row-group statistics to check, half the columns to read),
``bbox`` needs no spatial predicate beyond them, ``near`` measures from those two DOUBLEs without
decoding the geometry, and a page serves the point's GeoJSON made from them (``point_geojson_sql``), so
the geometry column is not read at all.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from catalog.geometry import bbox_column, geometry_columns, point_columns
from opendata.errors import QueryError
from opendata.sql_text import quote_identifier, quote_literal

GEO_PARAMETERS = ("near", "bbox", "contains", "intersects", "geometry")
METRES_PER_DEGREE = 111_194.93  # on the sphere ST_Distance_Sphere uses (radius 6,371,000 m)
GEOJSON_GEOMETRIES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
MAX_RADIUS_M = 20_100_000.0  # half the Earth's circumference: every point is nearer than this


@dataclass(frozen=True)
class GeoFilter:
    """The geo filters of one request, on one geometry column."""

    column: str
    near: tuple[float, float, float] | None = None  # lat, lon, metres
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north
    contains: tuple[float, float] | None = None  # lat, lon
    intersects: str | None = None  # GeoJSON geometry text
    points: bool = False  # the column holds points only (``catalog.geometry.point_columns``)

    def key(self) -> dict[str, Any]:
        """What a cursor hashes of these filters."""
        return {f"__{k}": v for k, v in (
            ("near", self.near), ("bbox", self.bbox), ("contains", self.contains), ("intersects", self.intersects),
        ) if v is not None} | {"__geometry": self.column}

    def distance_sql(self) -> str:
        """``distance_m`` of a row to the ``near`` point."""
        assert self.near is not None
        lat, lon, _ = self.near
        if self.points:  # a point's box is the point: its x and y are plain DOUBLE columns, no geometry to decode
            x, y = (quote_identifier(bbox_column(self.column, p)) for p in ("xmin", "ymin"))
            return f"ST_Distance_Sphere(ST_Point({y}, {x}), ST_Point({lat!r}, {lon!r}))"
        column = quote_identifier(self.column)
        point = f"ST_Point({lon!r}, {lat!r})"
        # ST_Distance_Sphere takes its points in latitude/longitude axis order: flip ours (lon/lat, as GeoJSON)
        return f"ST_Distance_Sphere(ST_FlipCoordinates(ST_ClosestPoint({column}, {point})), ST_Point({lat!r}, {lon!r}))"

    def conditions(self) -> list[str]:
        column = quote_identifier(self.column)
        found: list[str] = []
        if self.near is not None:
            lat, lon, metres = self.near
            found.extend(_box_overlap(self.column, _near_box(lat, lon, metres), self.points))
            found.append(f"{self.distance_sql()} <= {metres!r}")
        if self.bbox is not None:
            west, south, east, north = self.bbox
            found.extend(_box_overlap(self.column, self.bbox, self.points))
            if not self.points:  # a point meets the box exactly when its x and y lie in it: the box test is exact
                found.append(f"ST_Intersects({column}, ST_MakeEnvelope({west!r}, {south!r}, {east!r}, {north!r}))")
        if self.contains is not None:
            lat, lon = self.contains
            found.extend(_box_overlap(self.column, (lon, lat, lon, lat), self.points))
            found.append(f"ST_Intersects({column}, ST_Point({lon!r}, {lat!r}))")
        if self.intersects is not None:
            box = _geojson_box(json.loads(self.intersects))
            found.extend(_box_overlap(self.column, box, self.points))
            found.append(f"ST_Intersects({column}, ST_GeomFromGeoJSON({quote_literal(self.intersects)}))")
        return found


def point_geojson_sql(column: str) -> str:
    """A Point column's GeoJSON text built from its x/y helper DOUBLEs (DuckDB's shortest round-trip text of
    each), so a page does not read and decode the geometry column: the same point, parsed to the same numbers."""
    x, y = (quote_identifier(bbox_column(column, p)) for p in ("xmin", "ymin"))
    return (f"CASE WHEN {x} IS NOT NULL AND {y} IS NOT NULL THEN "
            f"'{{\"type\":\"Point\",\"coordinates\":[' || CAST({x} AS VARCHAR) || ',' || CAST({y} AS VARCHAR) "
            f"|| ']}}' END")


def _box_overlap(column: str, box: tuple[float, float, float, float] | None, points: bool = False) -> list[str]:
    """Conditions on the bounding-box helper columns; a point column's box is its point (xmin = xmax,
    ymin = ymax), so two columns say it all and the scan checks half the row-group statistics."""
    if box is None:
        return []
    west, south, east, north = box
    xmin, ymin, xmax, ymax = (quote_identifier(bbox_column(column, p)) for p in ("xmin", "ymin", "xmax", "ymax"))
    if points:  # both, always: they are the whole test of a point in a box
        return [f"{ymin} BETWEEN {south!r} AND {north!r}", f"{xmin} BETWEEN {west!r} AND {east!r}"]
    found = [f"{ymax} >= {south!r}", f"{ymin} <= {north!r}"]
    if west > -180 or east < 180:
        found += [f"{xmax} >= {west!r}", f"{xmin} <= {east!r}"]
    return found


def _near_box(lat: float, lon: float, metres: float) -> tuple[float, float, float, float] | None:
    """A lon/lat box holding every point within ``metres`` of (lat, lon); None when it would wrap."""
    dlat = metres / METRES_PER_DEGREE * 1.000001
    south, north = lat - dlat, lat + dlat
    if south <= -90 or north >= 90:
        return (-180.0, max(south, -90.0), 180.0, min(north, 90.0))
    widest = math.cos(math.radians(max(abs(south), abs(north))))
    dlon = dlat / widest
    if lon - dlon < -180 or lon + dlon > 180:
        return (-180.0, south, 180.0, north)
    return (lon - dlon, south, lon + dlon, north)


def _positions(coordinates: Any) -> Iterator[tuple[float, float]]:
    if isinstance(coordinates, list) and len(coordinates) >= 2 and all(
        isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates
    ):
        yield float(coordinates[0]), float(coordinates[1])
        return
    if not isinstance(coordinates, list) or not coordinates:
        raise QueryError("intersects: coordinates must be nested lists of [lon, lat] numbers", parameter="intersects")
    for part in coordinates:
        yield from _positions(part)


def _geojson_box(geometry: Any) -> tuple[float, float, float, float]:
    points = list(_positions(geometry["coordinates"]))
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _numbers(raw: str, count: int, name: str, shape: str) -> list[float]:
    parts = raw.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise QueryError(f"'{raw}' is not valid for {name}: give {shape}", parameter=name)
    return values


def _latitude(lat: float, lon: float, name: str) -> None:
    if not -90 <= lat <= 90 or not -180 <= lon <= 180:
        raise QueryError(
            f"{name}: latitude must lie in [-90, 90] and longitude in [-180, 180] (give LAT,LON in that order)",
            parameter=name,
        )


def parse_intersects(value: Any) -> str:
    """A GeoJSON geometry (an object, or its JSON text) checked and returned as compact JSON text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise QueryError("intersects: give a GeoJSON geometry as JSON", parameter="intersects") from None
    if not isinstance(value, dict) or value.get("type") not in GEOJSON_GEOMETRIES or "coordinates" not in value:
        raise QueryError(
            f"intersects: give a GeoJSON geometry object, with a type of {', '.join(GEOJSON_GEOMETRIES)} and its "
            "coordinates", parameter="intersects",
        )
    _geojson_box(value)  # coordinates are numbers
    kind, coordinates = value["type"], value["coordinates"]
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    for rings in polygons:
        for ring in rings if isinstance(rings, list) else [None]:
            if not isinstance(ring, list) or len(ring) < 4 or ring[0] != ring[-1]:
                raise QueryError(
                    "intersects: each polygon ring needs at least four positions, the last the same as the first",
                    parameter="intersects",
                )
    return json.dumps({"type": value["type"], "coordinates": value["coordinates"]}, separators=(",", ":"))


def parse_geo_params(
    table_schema: Mapping[str, Any], params: Mapping[str, str], intersects: Any = None
) -> GeoFilter | None:
    """The request's geo filters (query parameters ``params``, a POST body's ``intersects``), or None."""
    given = {k: v for k, v in params.items() if k in GEO_PARAMETERS}
    if intersects is not None:
        given["intersects"] = intersects
    if not any(k in given for k in ("near", "bbox", "contains", "intersects")):
        if "geometry" in given:
            raise QueryError("geometry= picks the column of a geo filter: add near, bbox, contains or intersects",
                             parameter="geometry")
        return None
    columns = geometry_columns(table_schema)
    if not columns:
        raise QueryError(
            "geo filters need a geometry column, and this dataset has none", parameter=next(iter(given)),
        )
    column = given.get("geometry") or columns[0]
    if column not in columns:
        raise QueryError(
            f"geometry names '{column}', which is not a geometry column ({', '.join(columns)})", parameter="geometry"
        )
    near = bbox = contains = None
    if "near" in given:
        lat, lon, metres = _numbers(given["near"], 3, "near", "LAT,LON,METRES such as 40.7,-74.0,500")
        _latitude(lat, lon, "near")
        if not 0 <= metres <= MAX_RADIUS_M:
            raise QueryError(f"near: the radius must lie between 0 and {MAX_RADIUS_M:,.0f} metres", parameter="near")
        near = (lat, lon, metres)
    if "bbox" in given:
        west, south, east, north = _numbers(given["bbox"], 4, "bbox", "W,S,E,N such as -74.1,40.6,-73.9,40.8")
        _latitude(south, west, "bbox")
        _latitude(north, east, "bbox")
        if west > east or south > north:
            raise QueryError(
                "bbox: give W,S,E,N with W <= E and S <= N (a box across the antimeridian is two requests)",
                parameter="bbox",
            )
        bbox = (west, south, east, north)
    if "contains" in given:
        lat, lon = _numbers(given["contains"], 2, "contains", "LAT,LON such as 38.5,-120.2")
        _latitude(lat, lon, "contains")
        contains = (lat, lon)
    shape = parse_intersects(given["intersects"]) if "intersects" in given else None
    return GeoFilter(column, near=near, bbox=bbox, contains=contains, intersects=shape,
                     points=column in point_columns(table_schema))
