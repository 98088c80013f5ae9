"""Rows of one published release: typed equality filters and keyset pages over ``file_row_number``.

Column names come from the release's Table Schema and are quoted as identifiers; filter values are
parsed per the column's Frictionless type and bound as parameters, never formatted into SQL.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from api.cursor import Cursor, encode_cursor
from api.engine import QueryEngine
from catalog.models import Release
from opendata.errors import QueryError

#: Query parameters of the rows endpoint; every other parameter must be a column of the schema.
RESERVED_PARAMETERS = ("limit", "cursor", "release", "format")

_INTEGER = re.compile(r"[+-]?\d+")
_YEAR = re.compile(r"[+-]?\d{1,4}")
_TRUE = ["true", "True", "TRUE", "1"]
_FALSE = ["false", "False", "FALSE", "0"]


@dataclass(frozen=True)
class RowsPage:
    release: int
    columns: list[str]
    rows: list[dict[str, Any]]
    next_cursor: str | None


def schema_fields(release: Release) -> dict[str, dict[str, Any]]:
    return {str(f["name"]): f for f in release.table_schema.get("fields", [])}


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def parse_filters(release: Release, params: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``{column: typed value}`` from the non-reserved query parameters; a QueryError names a bad one."""
    fields = schema_fields(release)
    filters: dict[str, Any] = {}
    for name, raw in params:
        if name in RESERVED_PARAMETERS:
            continue
        if name not in fields:
            valid = ", ".join(fields)
            raise QueryError(
                f"unknown query parameter '{name}': filter on a column of this dataset ({valid}) "
                f"or use one of {', '.join(RESERVED_PARAMETERS)}", parameter=name,
            )
        if name in filters:
            raise QueryError(f"the filter '{name}' is given more than once; give it once", parameter=name)
        filters[name] = parse_value(fields[name], raw)
    return filters


def parse_value(field: Mapping[str, Any], raw: str) -> Any:
    """Parse a filter value for its column's Frictionless type."""
    name, kind = str(field["name"]), str(field.get("type", "string"))
    try:
        if kind in ("string", "any"):
            return raw
        if kind == "integer" and _INTEGER.fullmatch(raw):
            return int(raw)
        if kind == "year" and _YEAR.fullmatch(raw):
            return int(raw)
        if kind == "number":
            number = float(raw)
            if math.isfinite(number):
                return number
        if kind == "boolean":
            if raw in field.get("trueValues", _TRUE):
                return True
            if raw in field.get("falseValues", _FALSE):
                return False
        if kind == "date":
            return date.fromisoformat(raw)
        if kind == "datetime":
            return datetime.fromisoformat(raw)
        if kind == "time":
            return time.fromisoformat(raw)
    except ValueError:
        pass
    if kind not in ("integer", "year", "number", "boolean", "date", "datetime", "time"):
        raise QueryError(f"column '{name}' has type '{kind}', which cannot be filtered on", parameter=name)
    raise QueryError(
        f"'{raw}' is not a valid {kind} for column '{name}' (expected {_EXPECTED[kind]})", parameter=name
    )


_EXPECTED = {
    "integer": "a whole number such as 42",
    "year": "a year such as 2024",
    "number": "a finite number such as 3.5",
    "boolean": "true or false",
    "date": "an ISO date such as 2024-03-01",
    "datetime": "an ISO datetime such as 2024-03-01T09:30:00Z",
    "time": "an ISO time such as 09:30:00",
}


def fetch_page(
    engine: QueryEngine, release: Release, filters: Mapping[str, Any], *, after_row: int, limit: int,
    filters_hash: str,
) -> RowsPage:
    """One page of rows after ``after_row`` (a file row number), in file order."""
    columns = list(schema_fields(release))
    select = ", ".join(quote_identifier(c) for c in columns)
    where = ["file_row_number > ?"] + [f"{quote_identifier(c)} = ?" for c in filters]
    sql = (
        f"SELECT {select}, file_row_number AS __row FROM read_parquet(?, file_row_number = true) "
        f"WHERE {' AND '.join(where)} ORDER BY file_row_number LIMIT ?"
    )
    path = engine.release_file(release, "data.parquet")
    table = engine.execute(sql, [str(path), after_row, *filters.values(), limit + 1])
    row_numbers = table.column("__row").to_pylist()
    rows = table.drop_columns(["__row"]).slice(0, limit).to_pylist()
    next_cursor = None
    if len(row_numbers) > limit:
        next_cursor = encode_cursor(Cursor(release.number, int(row_numbers[limit - 1]), filters_hash))
    return RowsPage(release.number, columns, rows, next_cursor)


def json_value(value: Any) -> Any:
    """A cell as JSON: dates and times as ISO strings, decimals as numbers, NaN/inf as null."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)
