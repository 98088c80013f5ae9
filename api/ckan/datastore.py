"""CKAN's DataStore read actions over published releases: datastore_search and datastore_search_sql.

``_id`` is the row's 1-based position in the release file, as CKAN numbers DataStore rows. Filters are
typed per the release's Table Schema and bound as parameters; ``q`` matches text columns ignoring case.
Geometry columns are GeoJSON geometry objects (field type ``json``), as the rows API serves them.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from api.ckan.actions import ActionContext, register_action
from api.ckan.read_actions import flag, integer, required
from api.engine import has_geometry
from api.filters import quote_identifier
from api.query import geojson_rows, parse_order, schema_fields, select_expression
from api.values import parse_value
from catalog.models import Release
from opendata.errors import CatalogError, QueryError

CKAN_TYPES = {"integer": "int", "year": "int", "number": "numeric", "string": "text", "date": "date",
              "datetime": "timestamp", "time": "time", "boolean": "bool", "geojson": "json", "geopoint": "json"}


def _release(ctx: ActionContext, resource: str) -> Release:
    name, _, number = resource.partition("@")
    if not ctx.published.exists(name):
        raise CatalogError(f"Resource \"{resource}\" was not found.")
    if number and not number.isdigit():
        raise CatalogError(f"Resource \"{resource}\" was not found.")
    return ctx.published.release(name, int(number) if number else None)


def _json_param(data: dict[str, Any], key: str) -> Any:
    value = data.get(key)
    if isinstance(value, str) and value.strip().startswith(("{", "[")):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise QueryError(f"{key} is not valid JSON", parameter=key) from None
    return value


def _fields_param(data: dict[str, Any], available: dict[str, dict[str, Any]]) -> list[str]:
    raw = _json_param(data, "fields")
    names = [f.strip() for f in raw.split(",")] if isinstance(raw, str) else list(raw or [])
    names = [n for n in names if n]
    for name in names:
        if name != "_id" and name not in available:
            raise QueryError(f"field \"{name}\" not in table; fields are {', '.join(available)}", parameter="fields")
    return names or ["_id", *available]


def _sort_param(data: dict[str, Any], available: dict[str, dict[str, Any]]) -> list[str]:
    raw = str(data.get("sort") or "").strip()
    if not raw:
        return ["_id"]
    text = ",".join(
        ("-" if part.strip().lower().endswith(" desc") else "") + part.strip().split(" ")[0].strip('"')
        for part in raw.split(",") if part.strip()
    )
    columns = {**available, "_id": {"name": "_id", "type": "integer"}}
    order = parse_order(columns, text)
    return [f"{quote_identifier(o.column)} {'DESC' if o.descending else 'ASC'} NULLS LAST" for o in order] + ["_id"]


def _conditions(data: dict[str, Any], fields: dict[str, dict[str, Any]]) -> tuple[list[str], list[Any]]:
    conditions: list[str] = []
    params: list[Any] = []
    filters = _json_param(data, "filters") or {}
    if not isinstance(filters, dict):
        raise QueryError("filters must be an object of field: value", parameter="filters")
    for column, value in filters.items():
        if column not in fields:
            raise QueryError(f"field \"{column}\" not in table; fields are {', '.join(fields)}", parameter="filters")
        values = value if isinstance(value, list) else [value]
        typed = [parse_value(fields[column], v if isinstance(v, str) else json.dumps(v)) for v in values]
        conditions.append(f"{quote_identifier(column)} IN ({', '.join('?' for _ in typed)})")
        params.extend(typed)
    q = _json_param(data, "q")
    text_columns = [c for c, f in fields.items() if f.get("type", "string") in ("string", "any")]
    if isinstance(q, dict):
        for column, text in q.items():
            if column not in text_columns:
                raise QueryError(f"q field \"{column}\" is not a text field", parameter="q")
            conditions.append(f"contains(lower({quote_identifier(column)}), lower(?))")
            params.append(str(text))
    elif q:
        for word in str(q).split():
            if not text_columns:
                break
            conditions.append("(" + " OR ".join(f"contains(lower({quote_identifier(c)}), lower(?))"
                                                for c in text_columns) + ")")
            params.extend([word] * len(text_columns))
    return conditions, params


def datastore_search(ctx: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Rows of a resource: resource_id, filters, q, limit, offset, fields, sort, include_total."""
    resource = str(data.get("resource_id") or data.get("id") or "") or required(data, "resource_id")
    release = _release(ctx, resource)
    fields = schema_fields(release)
    selected = _fields_param(data, fields)
    limit = integer(data, "limit", 100, high=ctx.settings.page_limit_max)
    offset = integer(data, "offset", 0)
    order = _sort_param(data, fields)
    conditions, params = _conditions(data, fields)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    spatial = has_geometry(release)
    relation, relation_params = ctx.engine.relation(release, spatial)
    source = f"(SELECT file_row_number + 1 AS _id, * EXCLUDE (file_row_number) FROM {relation})"
    # geometry as GeoJSON objects, as the rows API serves it (not the Parquet file's WKB bytes)
    select = ", ".join("_id" if c == "_id" else select_expression(release, c) for c in selected)
    records: list[dict[str, Any]] = []
    if limit:
        sql = f"SELECT {select} FROM {source}{where} ORDER BY {', '.join(order)} LIMIT ? OFFSET ?"
        table = ctx.engine.execute(sql, [*relation_params, *params, limit, offset], spatial=spatial)
        records = geojson_rows(release, table.to_pylist())
    result: dict[str, Any] = {
        "include_total": flag(data, "include_total", True), "resource_id": resource, "records_format": "objects",
        "fields": [{"id": c, "type": "int" if c == "_id" else CKAN_TYPES.get(str(fields[c].get("type")), "text")}
                   for c in selected],
        "records": records, "limit": limit, "offset": offset,
        "_links": {"start": _link(ctx, data, None), "next": _link(ctx, data, offset + limit)},
    }
    if data.get("sort"):
        result["sort"] = data["sort"]
    if result["include_total"]:
        row = ctx.engine.execute(f"SELECT count(*) AS n FROM {source}{where}", [*relation_params, *params],
                                 spatial=spatial).to_pylist()
        result["total"] = int(row[0]["n"])
    return result


def _link(ctx: ActionContext, data: dict[str, Any], offset: int | None) -> str:
    params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items() if k != "offset"}
    if offset is not None:
        params["offset"] = str(offset)
    return f"{ctx.request.url.path}?{urlencode(params)}"


def datastore_search_sql(ctx: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """One read-only SELECT; tables are resource ids ("<dataset>@<release>") or dataset names."""
    sql = required(data, "sql")
    result = ctx.sql_engine.run(ctx.published, sql)
    fields = [{"id": c, "type": t} for c, t in zip(result.columns, result.types, strict=True)]
    return {"sql": sql, "records": result.rows, "fields": fields, "records_format": "objects"}


register_action("datastore_search", datastore_search)
register_action("datastore_search_sql", datastore_search_sql)
