"""Rows of one published release: typed filters, column selection, ordering and keyset pages.

Column names come from the release's Table Schema and are quoted as identifiers; filter values are
parsed per the column's Frictionless type and bound as parameters, never formatted into SQL.

A page is ``ORDER BY <order columns>, file_row_number LIMIT n+1``; its cursor holds the last row's order
values and file row number, so the next page is a ``WHERE (...) > (...)`` seek, not an OFFSET: page 5,000
costs what page 1 costs. Without ``order`` the seek is on ``file_row_number``, which DuckDB pushes into
the Parquet scan, and releases are sorted at publish time on their common filter columns so row-group
statistics skip what a filter cannot match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import orjson

from api.cursor import Cursor, encode_cursor
from api.engine import QueryEngine, has_geometry
from api.filters import Filter, filters_key, parse_filter_params, quote_identifier, where_clause
from api.geo import GEO_PARAMETERS, GeoFilter, parse_geo_params, point_geojson_sql
from api.values import json_value, parse_value
from catalog.geometry import geometry_columns, point_columns
from catalog.models import Release
from opendata.errors import QueryError

__all__ = [
    "RESERVED_PARAMETERS", "OrderBy", "RowsPage", "RowsQuery", "fetch_page", "fetch_rows", "json_value",
    "parse_filters", "parse_order", "parse_rows_query", "parse_select", "parse_value", "quote_identifier",
    "schema_fields",
]

#: Query parameters of the rows endpoint; every other parameter must be a column filter.
RESERVED_PARAMETERS = ("limit", "cursor", "release", "format", "select", "order", "escape_formulas", *GEO_PARAMETERS)
#: ``order=distance`` (with ``near``) sorts by the row's ``distance_m``.
DISTANCE = "distance"


@dataclass(frozen=True)
class RowsPage:
    release: int
    columns: list[str]
    rows: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True)
class OrderBy:
    column: str
    descending: bool = False

    @property
    def text(self) -> str:
        return f"-{self.column}" if self.descending else self.column


@dataclass(frozen=True)
class RowsQuery:
    """What a rows (or export) request asks of one release, checked against its schema."""

    columns: list[str]
    filters: list[Filter] = field(default_factory=list)
    order: list[OrderBy] = field(default_factory=list)
    geo: GeoFilter | None = None

    def hash_key(self) -> dict[str, Any]:
        """What a cursor must agree with: filters and order (not the selected columns)."""
        key = filters_key(self.filters)
        if self.order:
            key["__order"] = ",".join(o.text for o in self.order)
        if self.geo is not None:
            key.update(self.geo.key())
        return key

    def conditions(self) -> tuple[list[str], list[Any]]:
        """The row filters' and the geo filters' SQL conditions, and the bound parameters."""
        conditions, params = where_clause(self.filters)
        return [*conditions, *(self.geo.conditions() if self.geo else [])], params

    def order_expression(self, item: OrderBy) -> str:
        if item.column == DISTANCE and self.geo is not None and self.geo.near is not None:
            return self.geo.distance_sql()
        return quote_identifier(item.column)


def schema_fields(release: Release) -> dict[str, dict[str, Any]]:
    return {str(f["name"]): f for f in release.table_schema.get("fields", [])}


def parse_select(fields: Mapping[str, Any], select: str | None) -> list[str]:
    if not select:
        return list(fields)
    columns = [c.strip() for c in select.split(",") if c.strip()]
    for column in columns:
        if column not in fields:
            raise QueryError(
                f"select names an unknown column '{column}'; the columns are {', '.join(fields)}",
                parameter="select",
            )
    if len(set(columns)) != len(columns):
        raise QueryError("select names a column more than once", parameter="select")
    return columns


def parse_order(fields: Mapping[str, Any], order: str | None) -> list[OrderBy]:
    if not order:
        return []
    found: list[OrderBy] = []
    for part in (p.strip() for p in order.split(",")):
        descending = part.startswith("-")
        column = part.lstrip("-+")
        if column == DISTANCE and column not in fields:
            found.append(OrderBy(column, descending))
            continue
        if column not in fields:
            raise QueryError(
                f"order names an unknown column '{column}'; order by one of {', '.join(fields)} "
                "(prefix '-' for descending)", parameter="order",
            )
        found.append(OrderBy(column, descending))
    return found


def parse_rows_query(
    release: Release, params: Iterable[tuple[str, str]], *, select: str | None = None, order: str | None = None,
    reserved: Sequence[str] = RESERVED_PARAMETERS, intersects: Any = None,
) -> RowsQuery:
    """``intersects`` is a POST body's GeoJSON geometry (the ``intersects`` filter)."""
    fields = schema_fields(release)
    given = list(params)
    geo = parse_geo_params(release.table_schema, dict(given), intersects)
    ordered = parse_order(fields, order)
    if any(o.column == DISTANCE and DISTANCE not in fields for o in ordered) and (geo is None or geo.near is None):
        raise QueryError("order=distance sorts by the distance to the near= point: add near=LAT,LON,METRES",
                         parameter="order")
    return RowsQuery(
        columns=parse_select(fields, select),
        filters=parse_filter_params(fields, given, [*reserved, *GEO_PARAMETERS]),
        order=ordered,
        geo=geo,
    )


def select_expression(release: Release, column: str) -> str:
    """A served column: geometry as its GeoJSON text (made an object by ``geojson_rows``), others as they are."""
    quoted = quote_identifier(column)
    if column in point_columns(release.table_schema):  # from its x/y helper columns: the geometry is not read
        return f"{point_geojson_sql(column)} AS {quoted}"
    if column in geometry_columns(release.table_schema):
        return f"ST_AsGeoJSON({quoted}) AS {quoted}"
    return quoted


def geojson_rows(release: Release, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with their geometry columns' GeoJSON text parsed to objects."""
    columns = [c for c in geometry_columns(release.table_schema) if rows and c in rows[0]]
    for row in rows:
        for column in columns:
            if row[column] is not None:
                row[column] = orjson.loads(row[column])
    return rows


def parse_filters(release: Release, params: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``{column: typed value}`` for equality filters only (the first version's contract)."""
    return {f.column: f.value for f in parse_filter_params(schema_fields(release), params, RESERVED_PARAMETERS)}


def _seek(query: RowsQuery, values: Sequence[Any], after_row: int) -> tuple[str, list[Any]]:
    """The keyset condition "after (values..., after_row)" for ORDER BY order..., file_row_number,
    with nulls last in both directions."""
    alternatives: list[str] = []
    params: list[Any] = []
    equal_prefix: list[str] = []
    prefix_params: list[Any] = []
    for item, value in zip(query.order, values, strict=True):
        column = query.order_expression(item)
        if value is None:
            # Nothing sorts after null (nulls last); the next key must also be null here.
            equal_prefix.append(f"{column} IS NULL")
            continue
        beyond = f"({column} {'<' if item.descending else '>'} ? OR {column} IS NULL)"
        alternatives.append("(" + " AND ".join([*equal_prefix, beyond]) + ")")
        params.extend([*prefix_params, value])
        equal_prefix.append(f"{column} = ?")
        prefix_params.append(value)
    alternatives.append("(" + " AND ".join([*equal_prefix, "file_row_number > ?"]) + ")")
    params.extend([*prefix_params, after_row])
    return "(" + " OR ".join(alternatives) + ")", params


def _restore(fields: Mapping[str, Mapping[str, Any]], order: Sequence[OrderBy], values: Sequence[Any]) -> list[Any]:
    """Cursor values (JSON) back to typed values for binding."""
    if len(values) != len(order):
        raise QueryError("the cursor was made with another order; repeat that order", parameter="cursor")
    restored: list[Any] = []
    for item, value in zip(order, values, strict=True):
        kind = fields.get(item.column, {}).get("type")
        if value is not None and isinstance(value, str):
            if kind == "date":
                value = date.fromisoformat(value)
            elif kind == "datetime":
                value = datetime.fromisoformat(value)
            elif kind == "time":
                value = time.fromisoformat(value)
        restored.append(value)
    return restored


def fetch_rows(
    engine: QueryEngine, release: Release, query: RowsQuery, *, limit: int, position: Cursor | None,
    filters_hash: str,
) -> RowsPage:
    """One page of rows after ``position`` (or the first page), in ``query.order`` then file order."""
    fields = schema_fields(release)
    conditions, params = query.conditions()
    after_row = position.after_row if position else -1
    if query.order and position is not None:
        seek, seek_params = _seek(query, _restore(fields, query.order, position.after_values), after_row)
        conditions.append(seek)
        params.extend(seek_params)
    elif not query.order:
        conditions.append("file_row_number > ?")
        params.append(after_row)
        if not query.filters and query.geo is None:  # row numbers are dense: the page is the next limit+1
            conditions.append("file_row_number <= ?")
            params.append(after_row + limit + 1)
    order_columns = [f"{query.order_expression(o)} AS __o{i}" for i, o in enumerate(query.order)]
    order_sql = [f"__o{i} {'DESC' if o.descending else 'ASC'} NULLS LAST" for i, o in enumerate(query.order)]
    served = [select_expression(release, c) for c in query.columns]
    distance = [f"{query.geo.distance_sql()} AS distance_m"] if query.geo and query.geo.near else []
    select = ", ".join([*served, *distance, *order_columns, "file_row_number AS __row"])
    spatial = has_geometry(release)
    source, source_params = engine.relation(release, spatial)
    sql = (
        f"SELECT {select} FROM {source} "
        f"WHERE {' AND '.join(conditions) or 'true'} ORDER BY {', '.join([*order_sql, '__row'])} LIMIT ?"
    )
    table = engine.execute(sql, [*source_params, *params, limit + 1], spatial=spatial)
    extra = ["__row", *(f"__o{i}" for i in range(len(query.order)))]
    rows = geojson_rows(release, table.drop_columns(extra).slice(0, limit).to_pylist())
    next_cursor = None
    if table.num_rows > limit:
        last = table.slice(limit - 1, 1).to_pylist()[0]
        values = tuple(json_value(last[f"__o{i}"]) for i in range(len(query.order)))
        next_cursor = encode_cursor(Cursor(release.number, int(last["__row"]), filters_hash, values))
    columns = [*query.columns, "distance_m"] if distance else query.columns
    return RowsPage(release.number, columns, rows, next_cursor)


def fetch_page(
    engine: QueryEngine, release: Release, filters: Mapping[str, Any], *, after_row: int, limit: int,
    filters_hash: str,
) -> RowsPage:
    """One page of rows after ``after_row`` (a file row number), in file order, with equality filters."""
    query = RowsQuery(
        columns=list(schema_fields(release)), filters=[Filter(c, "eq", v) for c, v in filters.items()]
    )
    position = Cursor(release.number, after_row, filters_hash)
    return fetch_rows(engine, release, query, limit=limit, position=position, filters_hash=filters_hash)
