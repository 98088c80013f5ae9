"""Cell values in and out: filter values parsed for their Frictionless type, cells made JSON-safe."""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import orjson
import pyarrow as pa

from opendata.errors import QueryError

_INTEGER = re.compile(r"[+-]?\d+")
_YEAR = re.compile(r"[+-]?\d{1,4}")
_TRUE = ["true", "True", "TRUE", "1"]
_FALSE = ["false", "False", "FALSE", "0"]
_EXPECTED = {
    "integer": "a whole number such as 42",
    "year": "a year such as 2024",
    "number": "a finite number such as 3.5",
    "boolean": "true or false",
    "date": "an ISO date such as 2024-03-01",
    "datetime": "an ISO datetime such as 2024-03-01T09:30:00Z",
    "time": "an ISO time such as 09:30:00",
}


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
    if kind not in _EXPECTED:
        raise QueryError(f"column '{name}' has type '{kind}', which cannot be filtered on", parameter=name)
    raise QueryError(
        f"'{raw}' is not a valid {kind} for column '{name}' (expected {_EXPECTED[kind]})", parameter=name
    )


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


def _orjson_default(value: Any) -> Any:
    converted = json_value(value)
    if converted is value:
        raise TypeError(f"cannot serialise {type(value).__name__}")
    return converted


def dumps(value: Any) -> bytes:
    """Fast JSON bytes (orjson): the same values ``json_value`` gives, NaN and infinity as null."""
    return orjson.dumps(value, default=_orjson_default, option=orjson.OPT_NON_STR_KEYS)


#: Text cells starting with one of these are formulas to a spreadsheet (``=cmd|' /C calc'!A0``, ``+``, ``-``,
#: ``@``, and tab or CR, which some spreadsheets skip before reading a formula): OWASP's CSV injection list.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: RFC 4180: records end in CRLF, so the writer quotes every field holding a CR or an LF (a bare CR too).
CSV_LINE_END = "\r\n"
ESCAPE_FORMULAS = (
    "CSV only: prefix text cells that start with =, +, -, @, tab or CR with ' so a spreadsheet shows them as "
    "text instead of running them as formulas (default true); false gives the values exactly"
)


def csv_value(value: Any, neutralize_formulas: bool = False) -> str:
    """A cell as CSV text: empty for null, true/false, ISO dates, JSON for nested values. With
    ``neutralize_formulas``, a text cell a spreadsheet would run as a formula gets a ``'`` prefix (as CKAN
    and Socrata do); numbers, dates and booleans are never changed."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if neutralize_formulas and value.startswith(FORMULA_STARTS) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    cell = json_value(value)
    if isinstance(cell, dict | list):
        return json.dumps(cell)
    return "" if cell is None else str(cell)


#: DuckDB's infinite dates and timestamps, as Arrow stores them (days, or the timestamp's unit, since 1970).
_INFINITE = {2**31 - 1: "infinity", -(2**31 - 1): "-infinity", 2**63 - 1: "infinity", -(2**63 - 1): "-infinity"}


def arrow_rows(table: pa.Table) -> list[dict[str, Any]]:
    """``table.to_pylist()``, except that dates and timestamps Python cannot hold (DuckDB's ``'infinity'``,
    years past 9999 or before 1) come out as text (``"infinity"``, ``"10000-01-01"``) instead of failing."""
    try:
        return table.to_pylist()
    except (OverflowError, ValueError):
        pass
    columns: dict[str, list[Any]] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
            columns[name] = _wide_times(column)
        else:
            columns[name] = column.to_pylist()
    return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _wide_times(column: pa.ChunkedArray) -> list[Any]:
    storage = pa.int32() if pa.types.is_date32(column.type) else pa.int64()
    raw = column.cast(storage).to_pylist()
    text = column.cast(pa.string(), safe=False).to_pylist()
    out: list[Any] = []
    for index, number in enumerate(raw):
        if number is None:
            out.append(None)
            continue
        try:
            out.append(column[index].as_py())
        except (OverflowError, ValueError):
            out.append(_INFINITE.get(number) or text[index])
    return out
