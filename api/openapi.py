"""OpenAPI that describes each published dataset: its columns, their types and the filters they take.

FastAPI's document covers the generic routes (``/api/v1/datasets/{name}/rows``). On top of it, each
published dataset gets a concrete ``/api/v1/datasets/<name>/rows`` path, tagged with the dataset, whose
parameters are that dataset's column filters and whose response names a ``<name> row`` schema with
the columns' JSON types and descriptions. The document is rebuilt when the catalog changes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from api.catalog_view import CatalogView
from catalog.models import Dataset, Release

JSON_TYPES: dict[str, dict[str, str]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "year": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "time": {"type": "string", "format": "time"},
}
ORDERED = ("integer", "year", "number", "date", "datetime", "time")


def _column_schema(field: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = dict(JSON_TYPES.get(str(field.get("type", "string")), {"type": "string"}))
    schema["nullable"] = True
    for key in ("title", "description"):
        if field.get(key):
            schema[key if key == "title" else "description"] = str(field[key])
    if enum := (field.get("constraints") or {}).get("enum"):
        schema["enum"] = enum
    return schema


def _filter_parameters(field: dict[str, Any]) -> list[dict[str, Any]]:
    name, kind = str(field["name"]), str(field.get("type", "string"))
    value = {k: v for k, v in JSON_TYPES.get(kind, {"type": "string"}).items()}
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


def dataset_paths(dataset: Dataset, release: Release) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(paths, component schemas)`` describing one dataset's rows."""
    fields = [f for f in release.table_schema.get("fields", []) if isinstance(f, dict)]
    row_name = f"{dataset.name} row"
    row_schema = {
        "title": row_name, "type": "object",
        "description": f"One row of {dataset.title} (release {release.number} schema).",
        "properties": {str(f["name"]): _column_schema(f) for f in fields},
    }
    common = [
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}, "description": "rows per page"},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "`next` of the previous page"},
        {"name": "release", "in": "query", "schema": {"type": "integer", "minimum": 1}, "description": "pin a release"},
        {"name": "select", "in": "query", "schema": {"type": "string"}, "description": "comma-separated columns"},
        {"name": "order", "in": "query", "schema": {"type": "string"}, "description": "columns, '-' for descending"},
    ]
    parameters = common + [p for f in fields for p in _filter_parameters(f)]
    page = {
        "type": "object",
        "properties": {
            "rows": {"type": "array", "items": {"$ref": f"#/components/schemas/{row_name}"}},
            "next": {"type": "string", "nullable": True},
            "release": {"type": "integer"},
        },
    }
    operation = {
        "tags": [f"dataset: {dataset.name}"],
        "summary": f"Rows of {dataset.title}",
        "description": f"{dataset.description}\n\nColumns: " + ", ".join(
            f"`{f['name']}` ({f.get('type', 'string')})" for f in fields
        ),
        "operationId": f"rows_of_{dataset.name.replace('-', '_')}",
        "parameters": parameters,
        "responses": {
            "200": {"description": "a page of rows", "content": {"application/json": {"schema": page}}},
            "400": {"description": "unknown column or operator, bad value",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorPublic"}}}},
        },
    }
    return {f"/api/v1/datasets/{dataset.name}/rows": {"get": operation}}, {row_name: row_schema}


def install_openapi(app: FastAPI, view: CatalogView) -> None:
    generate: Callable[[], dict[str, Any]] = app.openapi
    built: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        state = view.state()
        if built.get("version") == state.version:
            document: dict[str, Any] = built["document"]
            return document
        document = copy.deepcopy(generate())
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for name, dataset in sorted(state.datasets.items()):
            releases = state.releases.get(name)
            if not releases:
                continue
            paths, schemas = dataset_paths(dataset, releases[-1])
            document.setdefault("paths", {}).update(paths)
            components.update(schemas)
        built.update(version=state.version, document=document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
