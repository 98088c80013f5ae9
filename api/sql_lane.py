"""A lean lane for ``GET /api/v1/sql?sql=...``: the query goes straight to the SQL engine's thread.

FastAPI's routing, parameter validation and dependency resolution cost a fifth of a filtered query over a
small table. This plain ASGI middleware, beside the rows lane (inside CORS, gzip and the rate limiter, so
their headers are the same), answers a GET whose one ``sql`` parameter the route would take as it is: the
query runs in the thread pool as the route's does (never on the event loop), and the answer is the
route's bytes (``api.routes.sql.sql_answer``), gzipped here with a window sized to the body.

Errors are the route's too: an error of the engine is answered by the app's own handlers
(``api.errors``); anything the route would refuse before running a query (no ``sql``, a repeated or
over-long one) goes on to the route, which answers it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.compress import GZIP_HEADERS, gzip_body, gzip_wanted
from api.errors import opendata_error, storage_refused
from api.routes.sql import SQL_MAX_CHARS, sql_answer
from catalog.release_storage import OutsideStorage
from opendata.errors import OpendataError

SQL_PATH = "/api/v1/sql"
JSON = "application/json"


class SqlLane:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["path"] == SQL_PATH and scope["method"] == "GET"
                and not scope.get("root_path")):
            sql = plain_sql(scope.get("query_string", b""))
            if sql is not None:
                response = await self._answer(Request(scope, receive), sql)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _answer(request: Request, sql: str) -> Response:
        state = request.app.state
        try:
            body = await run_in_threadpool(sql_answer, state.sql_engine, state.catalog_view, sql)
        except OpendataError as exc:
            return await opendata_error(request, exc)
        except OutsideStorage as exc:
            return await storage_refused(request, exc)
        if gzip_wanted(body, request.headers.get("accept-encoding", "")):
            return Response(gzip_body(body), media_type=JSON, headers=GZIP_HEADERS)
        return Response(body, media_type=JSON)


def plain_sql(query_string: bytes) -> str | None:
    """The ``sql`` of a query string that has it once, with text the route would run; None otherwise."""
    found: str | None = None
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if key == "sql":
            if found is not None:
                return None
            found = value
    if found is None or not found.strip() or len(found) > SQL_MAX_CHARS:
        return None
    return found
