"""Geometry columns of a release: what the publish stage turns into DuckDB GEOMETRY, and how.

A release column is geometry when its published Table Schema type is ``geojson`` or ``geopoint``. It
comes from one of:

- a ``geojson`` field (GeoJSON text; what issue 17's JSON source emits) or a ``geopoint`` field
  (Frictionless formats: ``default`` "lon, lat", ``array`` "[lon, lat]", ``object`` {"lon": .., "lat": ..});
- a ``string`` field with ``"geometry": "wkt" | "geojson" | "cap-polygon" | "cap-circle"``: WKT text, a
  CAP polygon ("lat,lon lat,lon ...", reversed to GeoJSON's lon/lat) or a CAP circle ("lat,lon radius_km",
  published as a 32-sided polygon); its published type becomes ``geojson``;
- a job's ``publish.points``: a new Point column made of two numeric latitude/longitude columns.

Each geometry column ``g`` is stored with four DOUBLE columns ``__bbox_g_xmin`` ... ``__bbox_g_ymax`` (its
bounding box) and the release is sorted along a Hilbert curve of the first geometry's centre when the job
names no other order, so Parquet row-group statistics (and DuckDB's zone maps of in-memory tables) skip the
row groups a geo filter cannot match. Those helper columns are not in the Table Schema and not served.
DuckDB writes the file's GeoParquet ``geo`` metadata itself.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from opendata.sql_text import quote_identifier

GEOMETRY_TYPES = ("geojson", "geopoint")
STRING_SOURCES = ("wkt", "geojson", "cap-polygon", "cap-circle")
BBOX_PARTS = ("xmin", "ymin", "xmax", "ymax")
CIRCLE_SIDES = 32
WORLD = "{'min_x': -180, 'min_y': -90, 'max_x': 180, 'max_y': 90}::BOX_2D"


def bbox_column(column: str, part: str) -> str:
    return f"__bbox_{column}_{part}"


def geometry_columns(table_schema: Mapping[str, Any]) -> list[str]:
    """Names of the geometry columns of a published Table Schema, in schema order."""
    return [str(f["name"]) for f in table_schema.get("fields", []) if f.get("type") in GEOMETRY_TYPES]


def point_columns(table_schema: Mapping[str, Any]) -> list[str]:
    """Geometry columns that hold points only: ``geopoint`` fields and a job's ``publish.points`` (their
    published field names the latitude and longitude columns they are made of)."""
    return [str(f["name"]) for f in table_schema.get("fields", []) if f.get("type") == "geopoint" or (
        f.get("type") == "geojson" and isinstance(f.get("geometry"), Mapping) and "latitude" in f["geometry"])]


def published_schema(table_schema: Mapping[str, Any], points: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """The release's Table Schema: string fields declared as geometry become ``geojson``; ``points``
    (new column -> (latitude, longitude) columns) are added as ``geojson`` Point columns."""
    schema = copy.deepcopy(dict(table_schema))
    fields = schema.get("fields", [])
    for field in fields:
        if field.get("type") == "string" and field.get("geometry") in STRING_SOURCES:
            field["type"] = "geojson"
            field.pop("format", None)
    for name, (latitude, longitude) in points.items():
        fields.append({
            "name": name, "type": "geojson", "title": name,
            "description": f"Point of ({latitude}, {longitude}), served as GeoJSON.",
            "geometry": {"latitude": latitude, "longitude": longitude},
        })
    return schema


def _cap_polygon(value: str) -> str:
    pairs = f"regexp_replace(trim({value}), '\\s+', ';', 'g')"
    flipped = f"regexp_replace({pairs}, '([^,;]+),([^,;]+)', '\\2 \\1', 'g')"
    return f"ST_GeomFromText('POLYGON((' || replace({flipped}, ';', ',') || '))')"


def _cap_circle(value: str) -> str:
    centre = f"string_split(string_split(trim({value}), ' ')[1], ',')"
    lat, lon = f"CAST({centre}[1] AS DOUBLE)", f"CAST({centre}[2] AS DOUBLE)"
    km = f"CAST(string_split(trim({value}), ' ')[-1] AS DOUBLE)"
    ring = (
        f"list_transform(range({CIRCLE_SIDES}), i -> "
        f"CAST({lon} + {km} / (111.32 * cos(radians({lat}))) * cos(2 * pi() * i / {CIRCLE_SIDES}) AS VARCHAR)"
        f" || ' ' || CAST({lat} + {km} / 110.574 * sin(2 * pi() * i / {CIRCLE_SIDES}) AS VARCHAR))"
    )
    return f"ST_GeomFromText('POLYGON((' || array_to_string(list_append({ring}, {ring}[1]), ',') || '))')"


def _geopoint(value: str, fmt: str) -> str:
    if fmt == "array":
        parts = f"CAST(json_extract({value}, '$') AS DOUBLE[])"
        return f"ST_Point({parts}[1], {parts}[2])"
    if fmt == "object":
        lon, lat = (f"CAST(json_extract({value}, '$.{k}') AS DOUBLE)" for k in ("lon", "lat"))
        return f"ST_Point({lon}, {lat})"
    parts = f"string_split({value}, ',')"
    return f"ST_Point(CAST(trim({parts}[1]) AS DOUBLE), CAST(trim({parts}[2]) AS DOUBLE))"


def geometry_sql(field: Mapping[str, Any], value: str) -> str | None:
    """The GEOMETRY expression of a source field's text ``value``, or None when it is not geometry."""
    kind, source = field.get("type"), field.get("geometry")
    if kind == "geojson" or (kind == "string" and source == "geojson"):
        return f"ST_GeomFromGeoJSON({value})"
    if kind == "geopoint":
        return _geopoint(value, str(field.get("format", "default")))
    if kind == "string" and source == "wkt":
        return f"ST_GeomFromText({value})"
    if kind == "string" and source == "cap-polygon":
        return _cap_polygon(value)
    if kind == "string" and source == "cap-circle":
        return _cap_circle(value)
    return None


def point_sql(latitude: str, longitude: str) -> str:
    lat, lon = quote_identifier(latitude), quote_identifier(longitude)
    point = f"ST_Point(CAST({lon} AS DOUBLE), CAST({lat} AS DOUBLE))"
    return f"CASE WHEN {lat} IS NOT NULL AND {lon} IS NOT NULL THEN {point} END"


def bbox_selects(columns: Sequence[str]) -> list[str]:
    """The helper bounding-box columns, computed from the already typed geometry columns."""
    selects = []
    for column in columns:
        quoted = quote_identifier(column)
        for part, function in zip(BBOX_PARTS, ("ST_XMin", "ST_YMin", "ST_XMax", "ST_YMax"), strict=True):
            selects.append(f"{function}({quoted}) AS {quote_identifier(bbox_column(column, part))}")
    return selects


def hilbert_order(column: str) -> str:
    """Order rows along a Hilbert curve of the geometry's bounding-box centre (nulls last)."""
    quoted = quote_identifier(column)
    return f"ST_Hilbert(ST_Centroid(ST_Envelope({quoted})), {WORLD}) NULLS LAST"
