"""Rows of a dataset's release: filters with operators, select, order, keyset cursors, JSON or CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, quote_plus, urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL

from api.answers import release_answer_async
from api.catalog_view import CatalogView
from api.cursor import Cursor, check_filters, decode_cursor, filters_hash
from api.deps import EngineDep, PublishedDep, ReleaseQuery, ReleaseTablesDep, SettingsDep
from api.engine import QueryEngine
from api.query import RowsPage, RowsQuery, fetch_rows, parse_rows_query
from api.release_tables import ReleaseTables
from api.schemas import GeoBody, RowsPublic
from api.values import CSV_LINE_END, ESCAPE_FORMULAS, csv_value, dumps
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
`or=<filter>` adds an alternative to the filters on its column (`expires__gt=T&or=expires__isnull`).
Geo filters on the geometry column: `near=LAT,LON,METRES` (adds `distance_m`; `order=distance`),
`bbox=W,S,E,N`, `contains=LAT,LON`, and `intersects` (a GeoJSON geometry: POST this route with
`{"intersects": ...}`). Geometry columns come as GeoJSON geometries.
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
    # One look-up (one catalog change check): a dataset without a published release has no releases, and
    # picking from none raises what ``published.dataset`` would.
    return published.release(name, position.release if position else release)


@dataclass(frozen=True)
class RowsPlan:
    """A rows request checked against its release: what to read, and how to answer it."""

    request: Request
    release: Release
    query: RowsQuery
    limit: int
    position: Cursor | None
    filters_hash: str
    pinned: bool

    def page(self, engine: QueryEngine, tables: ReleaseTables) -> RowsPage:
        fast = tables.page(
            self.release, self.query, limit=self.limit, position=self.position, filters_hash=self.filters_hash
        )
        if fast is not None:
            return fast
        return fetch_rows(
            engine, self.release, self.query, limit=self.limit, position=self.position,
            filters_hash=self.filters_hash,
        )

    def in_memory(self, tables: ReleaseTables) -> bool:
        """Whether the page comes from a loaded, indexed release (microseconds: no thread-pool hop)."""
        return tables.warm(self.release, self.query, self.position)

    def body(self, engine: QueryEngine, tables: ReleaseTables) -> dict[str, Any]:
        found = self.page(engine, tables)
        return {"rows": found.rows, "next": found.next_cursor, "release": found.release}

    def headers(self, value: dict[str, Any]) -> dict[str, str]:
        return link_next(self.request, value["next"])


def plan_rows(
    request: Request, name: str, published: CatalogView, settings: Settings, *, limit: int | None,
    cursor: str | None, release: int | None, select: str | None, order: str | None, intersects: Any = None,
) -> RowsPlan:
    checked_limit = check_limit(settings, limit)
    position = decode_cursor(cursor) if cursor else None
    pinned = pinned_release(published, name, release, position)
    query = parse_rows_query(
        pinned, request.query_params.multi_items(), select=select, order=order, intersects=intersects
    )
    fhash = filters_hash(name, query.hash_key())
    if position:
        check_filters(position, fhash)
    return RowsPlan(
        request, pinned, query, checked_limit, position, fhash, pinned=release is not None or position is not None
    )


# The query parameters the GET and POST (intersects) forms of /rows share.
RowsLimit = Annotated[int | None, Query(ge=1, description="rows per page (default 100; cap 10,000)")]
CursorParam = Annotated[str | None, Query(description="the `next` value of the previous page")]
Select = Annotated[str | None, Query(description="comma-separated columns to return")]
Order = Annotated[str | None, Query(description="comma-separated columns, '-' for descending")]


@router.get(
    "/{name}/rows",
    name="list_rows",
    response_model=RowsPublic,
    responses={200: {"content": {"text/csv": {}}, "description": "rows as JSON, or CSV with format=csv"}},
    description=ROWS_DESCRIPTION,
)
async def list_rows(
    name: str,
    request: Request,
    published: PublishedDep,
    engine: EngineDep,
    tables: ReleaseTablesDep,
    settings: SettingsDep,
    limit: RowsLimit = None,
    cursor: CursorParam = None,
    release: ReleaseQuery = None,
    format: Annotated[Literal["json", "csv"], Query(description="response format")] = "json",
    select: Select = None,
    order: Order = None,
    escape_formulas: Annotated[bool, Query(description=ESCAPE_FORMULAS)] = True,
) -> Any:
    plan = plan_rows(
        request, name, published, settings, limit=limit, cursor=cursor, release=release, select=select, order=order
    )
    in_loop = plan.in_memory(tables)
    if format == "csv":
        def page() -> RowsPage:
            return plan.page(engine, tables)

        return csv_response(request, name, page() if in_loop else await run_in_threadpool(page), escape_formulas)
    return await release_answer_async(
        request, plan.release, kind="rows", pinned=plan.pinned, compute=lambda: plan.body(engine, tables),
        in_loop=in_loop, extra_headers=plan.headers,
    )


@router.post(
    "/{name}/rows",
    name="list_rows_intersecting",
    response_model=RowsPublic,
    description="The rows of the GET route whose geometry meets the GeoJSON geometry of the JSON body "
    "(`{\"intersects\": {...}}`); every other parameter, and `next`'s cursor, stays in the query string "
    "(POST the same body again with the cursor for the next page).",
)
async def list_rows_intersecting(
    name: str,
    body: GeoBody,
    request: Request,
    published: PublishedDep,
    engine: EngineDep,
    tables: ReleaseTablesDep,
    settings: SettingsDep,
    limit: RowsLimit = None,
    cursor: CursorParam = None,
    release: ReleaseQuery = None,
    select: Select = None,
    order: Order = None,
) -> Any:
    plan = plan_rows(
        request, name, published, settings, limit=limit, cursor=cursor, release=release, select=select,
        order=order, intersects=body.intersects,
    )
    value = await run_in_threadpool(plan.body, engine, tables)
    return Response(dumps(value), media_type="application/json", headers=plan.headers(value))


def link_next(request: Request, next_cursor: str | None) -> dict[str, str]:
    if not next_cursor:
        return {}
    next_url = with_cursor(request.url, next_cursor)
    return {"Link": f'<{next_url}>; rel="next"', "X-Next-Cursor": next_cursor}


#: A query string that ``urlencode(parse_qsl(...))`` gives back as it is: ``key=value`` pairs of characters
#: that need no quoting.
PLAIN_QUERY = re.compile(r"[\w.~-]+=[\w.~-]*(?:&[\w.~-]+=[\w.~-]*)*", re.ASCII)


def with_cursor(url: URL, cursor: str) -> str:
    """``str(url.include_query_params(cursor=cursor))`` (other parameters kept in order, ``cursor`` last),
    without its multi-dict and second URL object; a plain query string (the common case) is not parsed and
    quoted again at all."""
    query = url.query
    if not query or PLAIN_QUERY.fullmatch(query):
        kept = "".join(f"{part}&" for part in query.split("&") if part and not part.startswith("cursor="))
        return f"{str(url).partition('?')[0]}?{kept}cursor={quote_plus(cursor)}"
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "cursor"]
    return url.components._replace(query=urlencode([*pairs, ("cursor", cursor)])).geturl()


def csv_response(request: Request, name: str, page: RowsPage, escape_formulas: bool = True) -> Response:
    headers = {
        "X-Release": str(page.release),
        "Content-Disposition": f'inline; filename="{name}-{page.release}.csv"',
        **link_next(request, page.next_cursor),
    }
    return StreamingResponse(
        csv_chunks(page, escape_formulas), media_type="text/csv; charset=utf-8", headers=headers
    )


def csv_chunks(page: RowsPage, escape_formulas: bool = True) -> Iterator[str]:
    """RFC 4180 CSV of a page (CRLF records; CR and LF inside a field quoted)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=CSV_LINE_END)
    writer.writerow(page.columns)
    for start in range(0, max(len(page.rows), 1), CSV_CHUNK_ROWS):
        for row in page.rows[start : start + CSV_CHUNK_ROWS]:
            writer.writerow([csv_value(row[c], escape_formulas) for c in page.columns])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
