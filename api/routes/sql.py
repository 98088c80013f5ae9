"""Read-only SQL over published datasets: ``GET /api/v1/sql?sql=...`` or ``POST {"sql": "..."}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from api.deps import PublishedDep, SettingsDep
from api.schemas import SqlPublic, SqlTablesPublic
from api.sql_engine import SqlEngine
from api.values import dumps
from opendata.errors import QueryError

router = APIRouter(prefix="/api/v1/sql", tags=["sql"])

SQL_DESCRIPTION = """One read-only SELECT over the published datasets. Each dataset is a table named
as the dataset (its latest release), and each release is `"name@N"`; quote them, e.g.
`SELECT category, count(*) FROM "city-311-requests@1" GROUP BY 1`. Table functions (files), other
statements, settings and extensions are refused. A query runs at most `OPENDATA_QUERY_TIMEOUT_SECONDS`,
returns at most `OPENDATA_SQL_ROW_CAP` rows and uses at most `OPENDATA_SQL_MEMORY_LIMIT`; past any of
them the answer is a 400 that says which."""


def sql_engine(request: Request) -> SqlEngine:
    engine: SqlEngine = request.app.state.sql_engine
    return engine


def _answer(request: Request, published: PublishedDep, sql: str | None) -> Response:
    if not sql or not sql.strip():
        raise QueryError("give the query as sql=SELECT ... (GET) or {\"sql\": \"SELECT ...\"} (POST)",
                         parameter="sql")
    result = sql_engine(request).run(published.state(), sql)
    body = {"columns": result.columns, "rows": result.rows, "row_count": len(result.rows),
            "elapsed_ms": result.elapsed_ms}
    return Response(dumps(body), media_type="application/json")


@router.get("", name="sql_get", response_model=SqlPublic, description=SQL_DESCRIPTION)
def sql_get(
    request: Request,
    published: PublishedDep,
    sql: Annotated[str | None, Query(description="one SELECT statement", max_length=100_000)] = None,
) -> Response:
    return _answer(request, published, sql)


@router.post("", name="sql_post", response_model=SqlPublic, description=SQL_DESCRIPTION)
def sql_post(
    request: Request,
    published: PublishedDep,
    sql: Annotated[str, Body(embed=True, description="one SELECT statement", max_length=100_000)],
) -> Response:
    return _answer(request, published, sql)


@router.get("/tables", name="sql_tables", response_model=SqlTablesPublic)
def sql_tables(request: Request, published: PublishedDep, settings: SettingsDep) -> SqlTablesPublic:
    """The tables SQL may read, with their columns."""
    pool = sql_engine(request).pool(published.state())
    return SqlTablesPublic(
        tables=pool.columns(), row_cap=settings.sql_row_cap, timeout_seconds=settings.query_timeout_seconds
    )
