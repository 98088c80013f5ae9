"""Row filters from query parameters: ``{col}=v`` and ``{col}__{op}=v``, typed per the Table Schema.

    col=v            equal                 col__ne=v        not equal (nulls excluded)
    col__gt=v        greater than          col__gte=v       greater than or equal
    col__lt=v        less than             col__lte=v       less than or equal
    col__in=a,b,c    one of (comma-separated; a value may not contain a comma)
    col__contains=s  text contains s, ignoring case (text columns only)
    col__isnull=true|false

OR: each ``or=<filter>`` (``or=col__isnull``, ``or=col__op=v``; repeatable) is an alternative to the
filters on its column: ``expires__gt=T&or=expires__isnull`` is ``(expires > T OR expires IS NULL)``, so
"alerts that have not expired, or never expire" is one request. Filters on different columns are ANDed.
An ``or`` on a column with no other filter is an error (it would be a plain filter).

Values are parsed for the column's type (``api.query.parse_value``) and bound as parameters; column names
come from the schema and are quoted. Anything else is a QueryError naming the parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from api.values import parse_value
from opendata.errors import QueryError
from opendata.sql_text import quote_identifier

OPERATORS = {
    "eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "in": "IN", "contains": "", "isnull": "",
}
SUFFIXES = ("gt", "gte", "lt", "lte", "ne", "in", "contains", "isnull")
TEXT_TYPES = ("string", "any")


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: Any
    alternative: bool = False  # an ``or=`` term: ORed with the other filters on its column

    @property
    def key(self) -> str:
        """The query parameter this filter came from (and the cursor hashes)."""
        name = self.column if self.op == "eq" else f"{self.column}__{self.op}"
        return f"or:{name}" if self.alternative else name


def split_parameter(name: str, fields: Iterable[str]) -> tuple[str, str] | None:
    """``(column, op)`` for a filter parameter, or None when it names no column."""
    columns = set(fields)
    if name in columns:
        return name, "eq"
    column, sep, op = name.rpartition("__")
    if sep and column in columns:
        if op not in SUFFIXES:
            raise QueryError(
                f"unknown operator '__{op}' in '{name}': use one of {', '.join('__' + s for s in SUFFIXES)} "
                f"or {column}=value for equality", parameter=name,
            )
        return column, op
    return None


def parse_filter_params(
    fields: dict[str, dict[str, Any]], params: Iterable[tuple[str, str]], reserved: Sequence[str]
) -> list[Filter]:
    found: list[Filter] = []
    seen: set[str] = set()
    for given, given_raw in params:
        alternative = given == "or"
        name, raw = given, given_raw
        if alternative:
            name, has_value, raw = given_raw.partition("=")
            if not has_value:
                raw = "true"  # or=col__isnull
            if split_parameter(name, fields) is None:
                raise QueryError(
                    f"or={given_raw}: give a filter on a column, such as or=expires__isnull or or=severity=Extreme",
                    parameter="or",
                )
            seen_key = f"or:{name}={raw}"
            if seen_key in seen:
                raise QueryError(f"or={given_raw} is given more than once; give it once", parameter="or")
            seen.add(seen_key)
        elif name in reserved:
            continue
        parsed = split_parameter(name, fields)
        if parsed is None:
            raise QueryError(
                f"unknown query parameter '{name}': filter on a column of this dataset ({', '.join(fields)}), "
                f"optionally with an operator suffix ({', '.join('__' + s for s in SUFFIXES)}), "
                f"or use one of {', '.join(reserved)}", parameter=name,
            )
        if not alternative and name in seen:
            raise QueryError(f"the filter '{name}' is given more than once; give it once", parameter=name)
        seen.add(name if not alternative else f"or:{name}={raw}")
        column, op = parsed
        field = fields[column]
        kind = str(field.get("type", "string"))
        value: Any
        if op == "isnull":
            value = _boolean(raw, name)
        elif op == "contains":
            if kind not in TEXT_TYPES:
                raise QueryError(f"'{name}': __contains works on text columns; '{column}' is {kind}", parameter=name)
            value = raw
        else:
            try:
                value = [parse_value(field, p) for p in raw.split(",")] if op == "in" else parse_value(field, raw)
            except QueryError as exc:
                raise QueryError(str(exc), parameter=name) from None
        found.append(Filter(column, op, value, alternative))
    plain = {f.column for f in found if not f.alternative}
    for f in found:
        if f.alternative and f.column not in plain:
            raise QueryError(
                f"or={f.key.removeprefix('or:')} has no filter on '{f.column}' to be an alternative to; "
                f"give it as a plain filter instead", parameter="or",
            )
    return found


def _boolean(raw: str, name: str) -> bool:
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise QueryError(f"'{raw}' is not valid for '{name}': give true or false", parameter=name)


def _condition(f: Filter) -> tuple[str, list[Any]]:
    column = quote_identifier(f.column)
    if f.op == "isnull":
        return f"{column} IS {'' if f.value else 'NOT '}NULL", []
    if f.op == "contains":
        return f"contains(lower({column}), lower(?))", [f.value]
    if f.op == "in":
        return f"{column} IN ({', '.join('?' for _ in f.value)})", list(f.value)
    return f"{column} {OPERATORS[f.op]} ?", [f.value]


def where_clause(filters: Sequence[Filter]) -> tuple[list[str], list[Any]]:
    """SQL conditions (joined with AND by the caller) and their bound parameters."""
    conditions: list[str] = []
    params: list[Any] = []
    alternatives = {f.column for f in filters if f.alternative}
    grouped: dict[str, list[Filter]] = {}
    for f in filters:
        if f.column in alternatives:
            grouped.setdefault(f.column, []).append(f)
            continue
        condition, values = _condition(f)
        conditions.append(condition)
        params.extend(values)
    for group in grouped.values():
        plain = [_condition(f) for f in group if not f.alternative]
        either = [_condition(f) for f in group if f.alternative]
        terms = ["(" + " AND ".join(c for c, _ in plain) + ")", *(c for c, _ in either)]
        conditions.append("(" + " OR ".join(terms) + ")")
        for _, values in [*plain, *either]:
            params.extend(values)
    return conditions, params


def filters_key(filters: Sequence[Filter]) -> dict[str, Any]:
    """The filters as the cursor hashes them: parameter name -> value."""
    return {f.key: f.value for f in filters}
