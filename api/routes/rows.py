"""Rows of a dataset's release: filters with operators, select, order, keyset cursors, JSON or CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.answers import release_answer
from api.cursor import Cursor, check_filters, decode_cursor, filters_hash
from api.deps import EngineDep, PublishedDep, SettingsDep
from api.query import RowsPage, fetch_rows, parse_rows_query
from api.schemas import RowsPublic
from api.values import csv_value
from catalog.models import Release
from opendata.errors import QueryError
from opendata.settings import Settings

router = APIRouter(prefix="/api/v1/datasets", tags=["rows"])

CSV_CHUNK_ROWS = 500

ROWS_DESCRIPTION = """Rows of a release, 100 a page by default (`limit`, capped by the server's
`OPENDATA_PAGE_LIMIT_MAX`, 10,000 by default).

Every other query parameter filters on a column of the dataset's schema, its value parsed for the
column's type: `{column}=v` (equal), `{column}__gt`, `__gte`, `__lt`, `__lte`, `__ne`,
`__in=a,b,c`, `__contains=text` (text columns, ignoring case), `__isnull=true|false`.
`select=a,b` picks columns, `order=-col,col2` sorts (ties and the rest in file order). Follow `next`
(or the CSV `Link` header): a cursor pins its release, so paging stays consistent while new releases
are published, and page 5,000 costs what page 1 costs. `release=N` pins a release."""


def check_limit(settings: Settings, limit: int | None) -> int:
    limit = limit or settings.page_limit_default
    if limit > settings.page_limit_max:
        raise QueryError(
            f"limit {limit} is over the cap of {settings.page_limit_max} rows a page; "
            f"ask for at most {settings.page_limit_max} and follow 'next'", parameter="limit",
        )
    return limit


def pinned_release(
    published: PublishedDep, name: str, release: int | None, position: Cursor | None
) -> Release:
    if position and release is not None and release != position.release:
        raise QueryError(
            f"the cursor reads release {position.release} but release={release} was asked for; "
            "drop one of them", parameter="release",
        )
    published.dataset(name)
    return published.release(name, position.release if position else release)


@router.get(
    "/{name}/rows",
    name="list_rows",
    response_model=RowsPublic,
    responses={200: {"content": {"text/csv": {}}, "description": "rows as JSON, or CSV with format=csv"}},
    description=ROWS_DESCRIPTION,
)
def list_rows(
    name: str,
    request: Request,
    published: PublishedDep,
    engine: EngineDep,
    settings: SettingsDep,
    limit: Annotated[int | None, Query(ge=1, description="rows per page (default 100; cap 10,000)")] = None,
    cursor: Annotated[str | None, Query(description="the `next` value of the previous page")] = None,
    release: Annotated[int | None, Query(ge=1, description="release number (default: latest)")] = None,
    format: Annotated[Literal["json", "csv"], Query(description="response format")] = "json",
    select: Annotated[str | None, Query(description="comma-separated columns to return")] = None,
    order: Annotated[str | None, Query(description="comma-separated columns, '-' for descending")] = None,
) -> Any:
    limit = check_limit(settings, limit)
    position = decode_cursor(cursor) if cursor else None
    pinned = pinned_release(published, name, release, position)
    query = parse_rows_query(pinned, request.query_params.multi_items(), select=select, order=order)
    fhash = filters_hash(name, query.hash_key())
    if position:
        check_filters(position, fhash)

    def page() -> RowsPage:
        return fetch_rows(engine, pinned, query, limit=limit, position=position, filters_hash=fhash)

    if format == "csv":
        return csv_response(request, name, page())

    def body() -> dict[str, Any]:
        found = page()
        return {"rows": found.rows, "next": found.next_cursor, "release": found.release}

    return release_answer(
        request, pinned, kind="rows", pinned=release is not None or position is not None, compute=body,
        extra_headers=lambda value: link_next(request, value["next"]),
    )


def link_next(request: Request, next_cursor: str | None) -> dict[str, str]:
    if not next_cursor:
        return {}
    next_url = request.url.include_query_params(cursor=next_cursor)
    return {"Link": f'<{next_url}>; rel="next"', "X-Next-Cursor": next_cursor}


def csv_response(request: Request, name: str, page: RowsPage) -> Response:
    headers = {
        "X-Release": str(page.release),
        "Content-Disposition": f'inline; filename="{name}-{page.release}.csv"',
        **link_next(request, page.next_cursor),
    }
    return StreamingResponse(
        csv_chunks(page), media_type="text/csv; charset=utf-8", headers=headers
    )


def csv_chunks(page: RowsPage) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(page.columns)
    for start in range(0, max(len(page.rows), 1), CSV_CHUNK_ROWS):
        for row in page.rows[start : start + CSV_CHUNK_ROWS]:
            writer.writerow([csv_value(row[c]) for c in page.columns])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
