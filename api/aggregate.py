"""Aggregates of one release: ``group_by=route,day&metrics=count,sum:fare,avg:delay`` with row filters.

Metrics: ``count`` (rows), ``count:col`` (non-null values), ``distinct:col``, ``sum:col``, ``avg:col``,
``min:col``, ``max:col``. Each result column is named ``count`` or ``<metric>_<col>``. Groups come
back sorted by the group columns (or ``order=-sum_fare``), at most ``limit``; ``truncated`` says when
there were more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from api.engine import QueryEngine, has_geometry
from api.filters import Filter, quote_identifier, where_clause
from api.geo import GeoFilter
from catalog.models import Release
from opendata.errors import QueryError

NUMERIC = ("integer", "number", "year")
FUNCTIONS = {"count": "count", "distinct": "count(DISTINCT {})", "sum": "sum", "avg": "avg", "min": "min", "max": "max"}
NEEDS_NUMBER = ("sum", "avg")


@dataclass(frozen=True)
class Metric:
    function: str
    column: str | None

    @property
    def name(self) -> str:
        return self.function if self.column is None else f"{self.function}_{self.column}"

    def sql(self) -> str:
        if self.column is None:
            return "count(*)"
        column = quote_identifier(self.column)
        if self.function == "distinct":
            return f"count(DISTINCT {column})"
        return f"{FUNCTIONS[self.function]}({column})"


@dataclass(frozen=True)
class AggregateQuery:
    group_by: list[str]
    metrics: list[Metric]
    filters: list[Filter]
    order: list[tuple[str, bool]]
    geo: GeoFilter | None = None


@dataclass(frozen=True)
class AggregateResult:
    release: int
    group_by: list[str]
    metrics: list[str]
    rows: list[dict[str, Any]]
    truncated: bool


def parse_group_by(fields: Mapping[str, Any], group_by: str | None) -> list[str]:
    columns = [c.strip() for c in (group_by or "").split(",") if c.strip()]
    for column in columns:
        if column not in fields:
            raise QueryError(
                f"group_by names an unknown column '{column}'; the columns are {', '.join(fields)}",
                parameter="group_by",
            )
    return columns


def parse_metrics(fields: Mapping[str, Mapping[str, Any]], metrics: str | None) -> list[Metric]:
    found: list[Metric] = []
    for part in [p.strip() for p in (metrics or "count").split(",") if p.strip()]:
        function, _, column = part.partition(":")
        if function not in FUNCTIONS:
            raise QueryError(
                f"unknown metric '{function}' in '{part}': use count, or one of "
                f"{', '.join(f + ':column' for f in FUNCTIONS)}", parameter="metrics",
            )
        if not column:
            if function != "count":
                raise QueryError(f"metric '{function}' needs a column, as in {function}:column", parameter="metrics")
            found.append(Metric("count", None))
            continue
        if column not in fields:
            raise QueryError(
                f"metric '{part}' names an unknown column '{column}'; the columns are {', '.join(fields)}",
                parameter="metrics",
            )
        kind = str(fields[column].get("type", "string"))
        if function in NEEDS_NUMBER and kind not in NUMERIC:
            raise QueryError(
                f"metric '{part}': {function} needs a numeric column, and '{column}' is {kind}",
                parameter="metrics",
            )
        found.append(Metric(function, column))
    names = [m.name for m in found]
    if len(set(names)) != len(names):
        raise QueryError("a metric is asked for more than once", parameter="metrics")
    return found


def parse_aggregate_order(names: Sequence[str], order: str | None) -> list[tuple[str, bool]]:
    found: list[tuple[str, bool]] = []
    for part in [p.strip() for p in (order or "").split(",") if p.strip()]:
        name = part.lstrip("-+")
        if name not in names:
            raise QueryError(
                f"order names '{name}', which is neither a group column nor a metric ({', '.join(names)})",
                parameter="order",
            )
        found.append((name, part.startswith("-")))
    return found


def run_aggregate(engine: QueryEngine, release: Release, query: AggregateQuery, *, limit: int) -> AggregateResult:
    groups = [quote_identifier(c) for c in query.group_by]
    selects = [*groups, *(f"{m.sql()} AS {quote_identifier(m.name)}" for m in query.metrics)]
    conditions, params = where_clause(query.filters)
    conditions += query.geo.conditions() if query.geo else []
    order = [f"{quote_identifier(n)} {'DESC' if d else 'ASC'} NULLS LAST" for n, d in query.order]
    order += [f"{g} ASC NULLS LAST" for g in groups]
    spatial = has_geometry(release)
    source, source_params = engine.relation(release, spatial)
    sql = f"SELECT {', '.join(selects)} FROM {source}"
    if conditions:
        sql += f" WHERE {' AND '.join(conditions)}"
    if groups:
        sql += f" GROUP BY {', '.join(groups)} ORDER BY {', '.join(order)} LIMIT ?"
        params = [*params, limit + 1]
    table = engine.execute(sql, [*source_params, *params], spatial=spatial)
    rows = table.slice(0, limit).to_pylist()
    return AggregateResult(
        release.number, query.group_by, [m.name for m in query.metrics], rows, truncated=table.num_rows > limit
    )
