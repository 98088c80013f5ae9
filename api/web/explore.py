"""The dataset page's map and row explorer: what the page's scripts read from the public rows API.

Both are built on ``GET /api/v1/datasets/{name}/rows`` (the API a developer uses), by the page's own
scripts (``static/map.js``, ``static/explore.js``); the page is whole without them (the sample rows, the
column charts and the map's extent in words are server-rendered).

- The map (Leaflet, vendored under ``static/vendor/leaflet``) draws the first ``MAP_FEATURES`` rows that
  have a location: the release's geometry column (served as GeoJSON by the rows API), else its
  latitude/longitude columns as points, and says how many of all rows it shows. Tiles come from
  ``map_tiles_url`` when set; unset, the features are drawn on a plain background with a scale and their
  extent, and the browser loads nothing from elsewhere.
- The explorer filters one column with the rows API's operators, sorts by a column (``order=``) and pages
  by the API's cursors, 25 rows a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.exports import coordinate_columns
from catalog.geometry import geometry_columns
from catalog.models import Release
from catalog.release_facts import NUMERIC, TEMPORAL, ColumnProfile

MAP_FEATURES = 1000
EXPLORER_PAGE = 25
#: The rows API's filter operators an explorer offers, by column type (labels as people read them).
TEXT_OPERATORS = [("", "is"), ("contains", "contains"), ("ne", "is not"), ("isnull", "is empty (true/false)")]
ORDERED_OPERATORS = [("", "="), ("gt", ">"), ("gte", "≥"), ("lt", "<"), ("lte", "≤"), ("ne", "≠"),
                     ("isnull", "is empty (true/false)")]


@dataclass(frozen=True)
class MapView:
    kind: str  # "points" (latitude/longitude columns) or "geometry" (a GeoJSON geometry column)
    columns: list[str]  # [latitude, longitude] or [geometry]
    features_url: str
    limit: int
    rows: int
    tiles_url: str | None
    tiles_attribution: str
    extent: str  # the bounding box in words, when the profile knows it
    export_url: str


@dataclass(frozen=True)
class ExplorerColumn:
    name: str
    type: str
    operators: list[tuple[str, str]]


@dataclass(frozen=True)
class ExplorerView:
    rows_url: str
    release: int
    page_size: int
    columns: list[ExplorerColumn]


def map_view(base: str, release: Release, profiles: list[ColumnProfile], settings: Any) -> MapView | None:
    """The map of a release with a geometry column or latitude/longitude columns, else None."""
    fields = {str(f["name"]): f for f in release.table_schema.get("fields", []) if "name" in f}
    rows_url = f"{base}/api/v1/datasets/{release.dataset}/rows"
    limit = min(MAP_FEATURES, int(settings.page_limit_max))
    export = f"{base}/api/v1/datasets/{release.dataset}/export.geojson?release={release.number}"
    geometry = geometry_columns(release.table_schema)
    common = {"limit": limit, "rows": release.rows, "tiles_url": settings.map_tiles_url or None,
              "tiles_attribution": settings.map_tiles_attribution, "export_url": export}
    if geometry:
        url = f"{rows_url}?release={release.number}&limit={limit}&select={geometry[0]}"
        return MapView(kind="geometry", columns=[geometry[0]], features_url=url, extent="", **common)
    pair = coordinate_columns(fields)
    if pair is None:
        return None
    latitude, longitude = pair
    url = (f"{rows_url}?release={release.number}&limit={limit}&select={latitude},{longitude}"
           f"&{latitude}__isnull=false&{longitude}__isnull=false")
    by_name = {p.name: p for p in profiles}
    extent = ""
    lat, lon = by_name.get(latitude), by_name.get(longitude)
    if lat and lon and None not in (lat.minimum, lat.maximum, lon.minimum, lon.maximum):
        extent = (f"latitude {lat.minimum} to {lat.maximum}, longitude {lon.minimum} to {lon.maximum}")
    return MapView(kind="points", columns=[latitude, longitude], features_url=url, extent=extent, **common)


def explorer_view(base: str, release: Release) -> ExplorerView:
    geometry = set(geometry_columns(release.table_schema))
    columns = []
    for f in release.table_schema.get("fields", []):
        name, kind = str(f.get("name", "")), str(f.get("type", "string"))
        if not name or name in geometry or kind in ("object", "array"):
            continue
        ordered = kind in NUMERIC or kind in TEMPORAL
        columns.append(ExplorerColumn(name, kind, ORDERED_OPERATORS if ordered else TEXT_OPERATORS))
    return ExplorerView(rows_url=f"{base}/api/v1/datasets/{release.dataset}/rows", release=release.number,
                        page_size=EXPLORER_PAGE, columns=columns)
