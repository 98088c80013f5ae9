"""Read-only SQL over published datasets: ``GET /api/v1/sql?sql=...`` or ``POST {"sql": "..."}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from api.catalog_view import CatalogView
from api.deps import CatalogDep, PublishedDep, SettingsDep
from api.http_methods import MAX_URL_BYTES
from api.schemas import SqlPublic, SqlTablesPublic
from api.sql_engine import SqlEngine
from api.values import dumps
from catalog.models import Release
from opendata.errors import QueryError

router = APIRouter(prefix="/api/v1/sql", tags=["sql"])
#: The longest ``sql`` of a GET (a longer query: POST it).
SQL_MAX_CHARS = MAX_URL_BYTES // 4

SQL_DESCRIPTION = """One read-only SELECT over the published datasets. Each dataset is a table named
as the dataset (its latest release), and each release is `"name@N"`; quote them, e.g.
`SELECT category, count(*) FROM "city-311-requests@1" GROUP BY 1`. Table functions (files), other
statements, settings and extensions are refused. A query runs at most `OPENDATA_QUERY_TIMEOUT_SECONDS`,
returns at most `OPENDATA_SQL_ROW_CAP` rows and uses at most `OPENDATA_SQL_MEMORY_LIMIT`; past any of
them the answer is a 400 that says which."""


def sql_engine(request: Request) -> SqlEngine:
    engine: SqlEngine = request.app.state.sql_engine
    return engine


def sql_answer(engine: SqlEngine, published: CatalogView, sql: str | None) -> bytes:
    """The JSON body of the answer to ``sql`` (runs the query: call it from a worker thread)."""
    if not sql or not sql.strip():
        raise QueryError("give the query as sql=SELECT ... (GET) or {\"sql\": \"SELECT ...\"} (POST)",
                         parameter="sql")
    result = engine.run(published, sql)
    return dumps({"columns": result.columns, "rows": result.rows, "row_count": len(result.rows),
                  "elapsed_ms": result.elapsed_ms})


def _answer(request: Request, published: PublishedDep, sql: str | None) -> Response:
    return Response(sql_answer(sql_engine(request), published, sql), media_type="application/json")


@router.get("", name="sql_get", response_model=SqlPublic, description=SQL_DESCRIPTION)
def sql_get(
    request: Request,
    published: PublishedDep,
    sql: Annotated[str, Query(description="one SELECT statement (a longer one: POST)", min_length=1,
                              max_length=SQL_MAX_CHARS)],
) -> Response:
    return _answer(request, published, sql)


@router.post("", name="sql_post", response_model=SqlPublic, description=SQL_DESCRIPTION)
def sql_post(
    request: Request,
    published: PublishedDep,
    sql: Annotated[str, Body(embed=True, description="one SELECT statement", min_length=1, max_length=100_000)],
) -> Response:
    return _answer(request, published, sql)


@router.get("/tables", name="sql_tables", response_model=SqlTablesPublic)
def sql_tables(
    catalog: CatalogDep,
    published: PublishedDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="datasets per page (each gives its latest and every "
                                "pinned release)")] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1, description="datasets to skip, in name order")] = 0,
) -> SqlTablesPublic:
    """The tables SQL may read, with their columns (from each release's Table Schema), a page of datasets at a time."""
    names, total = catalog.published_names(limit, offset)
    tables: dict[str, list[str]] = {}
    for name in names:
        releases = published.releases(name)
        for release in releases:
            tables[f"{name}@{release.number}"] = schema_columns(release)
        if releases:
            tables[name] = schema_columns(releases[-1])
    return SqlTablesPublic(
        tables=tables, row_cap=settings.sql_row_cap, timeout_seconds=settings.query_timeout_seconds,
        datasets=total, offset=offset, limit=limit,
    )


def schema_columns(release: Release) -> list[str]:
    return [str(f.get("name")) for f in release.table_schema.get("fields", [])]
