"""Aggregates of a dataset's release: group_by, metrics and the rows endpoint's filters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from api.aggregate import AggregateQuery, parse_aggregate_order, parse_group_by, parse_metrics, run_aggregate
from api.answers import release_answer
from api.deps import EngineDep, PublishedDep, ReleaseQuery, SettingsDep
from api.filters import parse_filter_params
from api.geo import GEO_PARAMETERS, parse_geo_params
from api.query import schema_fields
from api.schemas import AggregatePublic, GeoBody

router = APIRouter(prefix="/api/v1/datasets", tags=["rows"])

RESERVED = ("group_by", "metrics", "release", "order", "limit", *GEO_PARAMETERS)


# The query parameters the GET and POST (intersects) forms of /aggregate share.
GroupBy = Annotated[str | None, Query(description="comma-separated group columns")]
Metrics = Annotated[str | None, Query(description="comma-separated metrics (default: count)")]
GroupOrder = Annotated[str | None, Query(description="group columns or metric names, '-' for descending")]
GroupLimit = Annotated[int | None, Query(ge=1, description="most groups to return")]


@router.post(
    "/{name}/aggregate",
    name="aggregate_rows_intersecting",
    response_model=AggregatePublic,
    description="The aggregate of the GET route, with `intersects`: a GeoJSON geometry in the JSON body "
    "(`{\"intersects\": {\"type\": \"Polygon\", ...}}`); the other parameters stay in the query string.",
)
def aggregate_rows_intersecting(
    name: str, body: GeoBody, request: Request, published: PublishedDep, engine: EngineDep, settings: SettingsDep,
    group_by: GroupBy = None,
    metrics: Metrics = None,
    release: ReleaseQuery = None,
    order: GroupOrder = None,
    limit: GroupLimit = None,
) -> Response:
    return _aggregate(name, request, published, engine, settings, group_by, metrics, release, order, limit,
                      body.intersects)


@router.get(
    "/{name}/aggregate",
    name="aggregate_rows",
    response_model=AggregatePublic,
    description="Group a release's rows and compute metrics: `group_by=route,day&metrics=count,sum:fare,"
    "avg:delay`. Metrics: `count`, `count:col`, `distinct:col`, `sum:col`, `avg:col`, `min:col`, `max:col`; "
    "each comes back as `count` or `<metric>_<col>`. Filters as on rows (`{column}__gt=...`). "
    "Geo filters too (`near`, `bbox`, `contains`; `intersects` by POST). "
    "`order=-count` sorts groups; at most `limit` groups (default and cap: OPENDATA_SQL_ROW_CAP).",
)
def aggregate_rows(
    name: str,
    request: Request,
    published: PublishedDep,
    engine: EngineDep,
    settings: SettingsDep,
    group_by: GroupBy = None,
    metrics: Metrics = None,
    release: ReleaseQuery = None,
    order: GroupOrder = None,
    limit: GroupLimit = None,
) -> Response:
    return _aggregate(name, request, published, engine, settings, group_by, metrics, release, order, limit, None)


def _aggregate(
    name: str, request: Request, published: PublishedDep, engine: EngineDep, settings: SettingsDep,
    group_by: str | None, metrics: str | None, release: int | None, order: str | None, limit: int | None,
    intersects: Any,
) -> Response:
    published.dataset(name)
    pinned = published.release(name, release)
    fields = schema_fields(pinned)
    groups = parse_group_by(fields, group_by)
    found_metrics = parse_metrics(fields, metrics)
    query = AggregateQuery(
        group_by=groups,
        metrics=found_metrics,
        filters=parse_filter_params(fields, request.query_params.multi_items(), RESERVED),
        order=parse_aggregate_order([*groups, *(m.name for m in found_metrics)], order),
        geo=parse_geo_params(pinned.table_schema, dict(request.query_params), intersects),
    )
    cap = min(limit or settings.sql_row_cap, settings.sql_row_cap)

    def compute() -> dict[str, Any]:
        result = run_aggregate(engine, pinned, query, limit=cap)
        return {
            "release": result.release, "group_by": result.group_by, "metrics": result.metrics,
            "rows": result.rows, "truncated": result.truncated,
        }

    return release_answer(request, pinned, kind="aggregate", pinned=release is not None, compute=compute)
