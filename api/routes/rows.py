"""Rows of a dataset's release: equality filters on columns, keyset cursors, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.cursor import check_filters, decode_cursor, filters_hash
from api.deps import CatalogDep, EngineDep, SettingsDep
from api.query import RowsPage, fetch_page, json_value, parse_filters
from api.schemas import RowsPublic
from opendata.errors import QueryError

router = APIRouter(prefix="/api/v1/datasets", tags=["rows"])

CSV_CHUNK_ROWS = 500


@router.get(
    "/{name}/rows",
    name="list_rows",
    response_model=RowsPublic,
    responses={200: {"content": {"text/csv": {}}, "description": "rows as JSON, or CSV with format=csv"}},
    description="Rows in file order. Any other query parameter `{column}={value}` is an equality filter on "
    "a schema column, parsed for the column's type. Follow `next` (or the CSV `Link` header) for more.",
)
def list_rows(
    name: str,
    request: Request,
    catalog: CatalogDep,
    engine: EngineDep,
    settings: SettingsDep,
    limit: Annotated[int | None, Query(ge=1, description="rows per page (default, cap: settings)")] = None,
    cursor: Annotated[str | None, Query(description="the `next` value of the previous page")] = None,
    release: Annotated[int | None, Query(ge=1, description="release number (default: latest)")] = None,
    format: Annotated[Literal["json", "csv"], Query(description="response format")] = "json",
) -> Any:
    limit = limit or settings.page_limit_default
    if limit > settings.page_limit_max:
        raise QueryError(
            f"limit {limit} is over the cap of {settings.page_limit_max} rows a page; "
            f"ask for at most {settings.page_limit_max} and follow 'next'", parameter="limit",
        )
    position = decode_cursor(cursor) if cursor else None
    if position and release is not None and release != position.release:
        raise QueryError(
            f"the cursor reads release {position.release} but release={release} was asked for; "
            "drop one of them", parameter="release",
        )
    catalog.dataset(name)
    pinned = catalog.release(name, position.release if position else release)
    filters = parse_filters(pinned, request.query_params.multi_items())
    fhash = filters_hash(name, filters)
    if position:
        check_filters(position, fhash)
    page = fetch_page(
        engine, pinned, filters, after_row=position.after_row if position else -1, limit=limit,
        filters_hash=fhash,
    )
    if format == "csv":
        return csv_response(request, name, page)
    rows = [{k: json_value(v) for k, v in row.items()} for row in page.rows]
    return RowsPublic(rows=rows, next=page.next_cursor, release=page.release)


def csv_response(request: Request, name: str, page: RowsPage) -> Response:
    headers = {
        "X-Release": str(page.release),
        "Content-Disposition": f'inline; filename="{name}-{page.release}.csv"',
    }
    if page.next_cursor:
        headers["X-Next-Cursor"] = page.next_cursor
        next_url = request.url.include_query_params(cursor=page.next_cursor)
        headers["Link"] = f'<{next_url}>; rel="next"'
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


def csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    cell = json_value(value)
    if isinstance(cell, dict | list):
        return json.dumps(cell)
    return "" if cell is None else str(cell)
