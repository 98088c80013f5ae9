"""OpenAPI 3.1: one constant-size document for the generic routes, one small document per dataset.

``/openapi.json`` is FastAPI's document of the generic routes (``/api/v1/datasets/{name}/rows`` and the
rest): its size does not depend on how many datasets the catalog holds, so it is built once per process.
``/api/v1/datasets/{name}/openapi.json`` (``dataset_document``) describes one published dataset: a concrete
``/api/v1/datasets/<name>/rows`` path whose parameters are that dataset's column filters and whose
response names a ``<name>.row`` schema with the columns' JSON types and descriptions (component names
follow OpenAPI's ``^[a-zA-Z0-9.\\-_]+$`` rule). Both validate under openapi-spec-validator.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from catalog.geometry import geometry_columns
from catalog.models import Dataset, Release

#: Naive local date-times and times are not RFC 3339 (which needs an offset), so they are described by a
#: pattern, not by ``format: date-time`` / ``format: time``, which strict generated clients enforce. Datetime
#: columns published as instants (TIMESTAMPTZ, every release since) are served with an offset: date-time.
LOCAL_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$"
LOCAL_TIME = r"^\d{2}:\d{2}:\d{2}(\.\d+)?$"
JSON_TYPES: dict[str, dict[str, str]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "year": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "pattern": LOCAL_DATETIME},
    "time": {"type": "string", "pattern": LOCAL_TIME},
}
ORDERED = ("integer", "year", "number", "date", "datetime", "time")
_COMPONENT_NAME = re.compile(r"[^A-Za-z0-9._-]")


def component_name(dataset: str) -> str:
    """The row schema's component name: OpenAPI allows only letters, digits, ``.``, ``-`` and ``_``."""
    return _COMPONENT_NAME.sub("_", dataset) + ".row"


def _value_schema(field: dict[str, Any], instant: bool = False) -> dict[str, Any]:
    kind = str(field.get("type", "string"))
    schema = dict(JSON_TYPES.get(kind, {"type": "string"}))
    if kind == "datetime" and instant:  # TIMESTAMPTZ: served as RFC 3339 with an offset
        schema.pop("pattern")
        schema["format"] = "date-time"
    return schema


def _column_schema(field: dict[str, Any], instant: bool = False) -> dict[str, Any]:
    schema = _value_schema(field, instant)
    schema["type"] = [schema["type"], "null"]
    if field.get("title"):
        schema["title"] = str(field["title"])
    if field.get("description"):
        schema["description"] = str(field["description"])
    if enum := (field.get("constraints") or {}).get("enum"):
        schema["enum"] = [*enum, None]
    return schema


def _filter_parameters(field: dict[str, Any]) -> list[dict[str, Any]]:
    name, kind = str(field["name"]), str(field.get("type", "string"))
    value = _value_schema(field)
    if kind == "datetime":  # a filter reads an offset too (and a naive value in the dataset's zone)
        value = {"type": "string", "description": "ISO 8601 date-time, with or without an offset"}
    operators: list[tuple[str, str, dict[str, Any]]] = [("", "equals", value), ("__ne", "is not", value)]
    if kind in ORDERED:
        operators += [(f"__{op}", text, value) for op, text in
                      (("gt", "greater than"), ("gte", "at least"), ("lt", "less than"), ("lte", "at most"))]
    if kind in ("string", "any"):
        operators.append(("__contains", "contains (ignoring case)", {"type": "string"}))
    operators.append(("__in", "is one of (comma-separated)", {"type": "string"}))
    operators.append(("__isnull", "is null (true) or not (false)", {"type": "boolean"}))
    return [
        {"name": f"{name}{suffix}", "in": "query", "required": False, "schema": schema,
         "description": f"rows whose {name} {text}"}
        for suffix, text, schema in operators
    ]


COMMON_PARAMETERS: list[dict[str, Any]] = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}, "description": "rows per page"},
    {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "`next` of the previous page"},
    {"name": "release", "in": "query", "schema": {"type": "integer", "minimum": 1}, "description": "pin a release"},
    {"name": "select", "in": "query", "schema": {"type": "string"}, "description": "comma-separated columns"},
    {"name": "order", "in": "query", "schema": {"type": "string"}, "description": "columns, '-' for descending"},
]


#: ``or=<filter>``, on every dataset (``api.filters``): an alternative to the filters on its column.
OR_PARAMETER: dict[str, Any] = {
    "name": "or", "in": "query", "required": False, "style": "form", "explode": True,
    "schema": {"type": "array", "items": {"type": "string"}},
    "description": "an alternative to the filters on the same column, repeatable: `expires__gt=T&or=expires__isnull` "
    "is `(expires > T OR expires IS NULL)`; give `or=<column>__isnull` or `or=<column>[__<operator>]=<value>`",
    "examples": {"active alerts": {"value": ["expires__isnull"]}},
}
GEOJSON_GEOMETRY: dict[str, Any] = {
    "type": "object", "required": ["type", "coordinates"],
    "description": "a GeoJSON geometry (RFC 7946), longitude before latitude",
    "properties": {
        "type": {"type": "string", "enum": ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                                            "MultiPolygon"]},
        "coordinates": {"type": "array"},
    },
}


def _geo_parameters(columns: list[str]) -> list[dict[str, Any]]:
    """The geo filters (``api.geo``) of a dataset with geometry columns."""
    def text(name: str, pattern: str, description: str, example: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "description": description,
                "schema": {"type": "string", "pattern": pattern}, "example": example}

    number = r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?"
    return [
        text("near", f"^{number},{number},{number}$", "`LAT,LON,METRES`: rows within METRES (great-circle) of the "
             "point; adds `distance_m` to each row, and `order=distance` sorts by it", "40.75,-73.98,500"),
        text("bbox", f"^{number},{number},{number},{number}$", "`W,S,E,N` (degrees, W <= E, S <= N): rows whose "
             "geometry meets the box", "-74.1,40.6,-73.9,40.8"),
        text("contains", f"^{number},{number}$", "`LAT,LON`: rows whose geometry holds the point (boundary "
             "included)", "31.8,-86.55"),
        {"name": "intersects", "in": "query", "required": False, "description": "a GeoJSON geometry as JSON text: "
         "rows whose geometry meets it (or POST this path with `{\"intersects\": ...}`)",
         "content": {"application/json": {"schema": GEOJSON_GEOMETRY}}},
        {"name": "geometry", "in": "query", "required": False, "schema": {"type": "string", "enum": columns},
         "description": f"the geometry column the geo filters use (default `{columns[0]}`)"},
    ]


def dataset_paths(
    dataset: Dataset, release: Release, instants: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(paths, component schemas)`` describing one dataset's rows; ``instants``: its TIMESTAMPTZ columns."""
    fields = [f for f in release.table_schema.get("fields", []) if isinstance(f, dict) and "name" in f]
    row_name = component_name(dataset.name)
    row_schema: dict[str, Any] = {
        "title": f"{dataset.name} row", "type": "object",
        "description": f"One row of {dataset.title} (release {release.number} schema).",
        "properties": {str(f["name"]): _column_schema(f, str(f["name"]) in instants) for f in fields},
    }
    geometry = geometry_columns(release.table_schema)
    if geometry:
        row_schema["properties"]["distance_m"] = {
            "type": "number", "description": "metres to the `near` point (only with `near`)"}
    page = {
        "type": "object",
        "properties": {
            "rows": {"type": "array", "items": {"$ref": f"#/components/schemas/{row_name}"}},
            "next": {"type": ["string", "null"]},
            "release": {"type": "integer"},
        },
    }
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorPublic"}}}}
    operation: dict[str, Any] = {
        "tags": [f"dataset: {dataset.name}"],
        "summary": f"Rows of {dataset.title}",
        "description": f"{dataset.description}\n\nColumns: " + ", ".join(
            f"`{f['name']}` ({f.get('type', 'string')})" for f in fields
        ),
        "operationId": "rows_of_" + re.sub(r"[^A-Za-z0-9_]", "_", dataset.name),
        "parameters": [*COMMON_PARAMETERS, *(p for f in fields for p in _filter_parameters(f)), OR_PARAMETER,
                       *(_geo_parameters(geometry) if geometry else [])],
        "responses": {
            "200": {"description": "a page of rows", "content": {"application/json": {"schema": page}}},
            "400": {"description": "unknown column or operator, bad value", **error},
            "404": {"description": "no such release", **error},
            "429": {"description": "rate limited", **error},
        },
    }
    item: dict[str, Any] = {"get": operation}
    if geometry:  # the intersects filter's geometry may be too long for a URL: POST it
        item["post"] = {
            **operation, "summary": f"Rows of {dataset.title} that meet a geometry",
            "operationId": operation["operationId"] + "_intersecting",
            "parameters": [p for p in operation["parameters"] if p["name"] != "intersects"],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["intersects"],
                "properties": {"intersects": GEOJSON_GEOMETRY}}}}},
        }
    return {f"/api/v1/datasets/{dataset.name}/rows": item}, {row_name: row_schema}


def dataset_document(
    generic: dict[str, Any], dataset: Dataset, release: Release, instants: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """A whole OpenAPI 3.1 document for one dataset's rows (its typed row schema and column filters)."""
    paths, schemas = dataset_paths(dataset, release, instants)
    components = _referenced(generic.get("components", {}).get("schemas", {}), ["ErrorPublic"])
    components.update(schemas)
    return {
        "openapi": generic.get("openapi", "3.1.0"),
        "info": {
            "title": f"{generic['info']['title']}: {dataset.title}",
            "version": str(generic["info"]["version"]),
            "description": f"The rows of `{dataset.name}` (latest release {release.number}). The whole API: "
            "/openapi.json.",
        },
        "paths": paths,
        "components": {"schemas": components},
    }


def _referenced(shared: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """The named component schemas and every schema they reference, transitively."""
    found: dict[str, Any] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in found or name not in shared:
            continue
        found[name] = shared[name]
        pending += re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(shared[name]))
    return found


def errors_as_json(document: dict[str, Any]) -> dict[str, Any]:
    """Error answers are JSON on every route: FastAPI gives an HTML page's declared errors its ``text/html``
    media type, which is not what the error handlers send (``api/errors.py``)."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            for status, response in (operation.get("responses") or {}).items():
                content = response.get("content") or {}
                if str(status)[:1] in ("4", "5") and "text/html" in content:
                    content.setdefault("application/json", content.pop("text/html"))
    return document


def install_openapi(app: FastAPI) -> None:
    """Build FastAPI's document once: it describes the generic routes only, so it never changes."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    built: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if "document" not in built:
            built["document"] = errors_as_json(copy.deepcopy(generate()))
        document: dict[str, Any] = built["document"]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
