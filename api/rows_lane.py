"""A lean lane for ``GET /api/v1/datasets/{name}/rows`` answers that need no waiting.

FastAPI's routing, parameter validation and dependency resolution cost more than a page served from
memory (``api.release_tables``) or from the answer cache. This plain ASGI middleware, innermost of ours
(inside CORS, gzip and the rate limiter, so their headers are the same), answers a rows request itself
when all of it is plain: a JSON answer that is a 304, a cached body, or a page from a loaded, indexed
release. It plans the request with the route's own ``plan_rows`` and answers with the same
``api.answers`` functions, so the bytes and headers are the route's.

Anything else goes on to the FastAPI route unchanged, which then does all the work and every error:
a parameter it would not parse the same way, CSV, a page that needs DuckDB, or any error while
planning (the route raises it again and answers in the one error shape).
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.answers import answer_at_once
from api.routes.rows import plan_rows
from opendata.errors import OpendataError

ROWS_PATH = re.compile(r"/api/v1/datasets/([^/]+)/rows")
POSITIVE = re.compile(r"[1-9][0-9]{0,8}")
OPTIONS = ("limit", "cursor", "release", "format", "select", "order")


class RowsLane:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            matched = ROWS_PATH.fullmatch(scope["path"])
            if matched is not None:
                response = self._answer(Request(scope, receive), matched.group(1))
                if response is not None:
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    @staticmethod
    def _answer(request: Request, name: str) -> Response | None:
        given: dict[str, str] = {}
        for key, value in request.query_params.multi_items():
            if key in OPTIONS:
                if key in given:
                    return None  # repeated: the route decides which one counts
                given[key] = value
        for key in ("limit", "release"):
            if key in given and not POSITIVE.fullmatch(given[key]):
                return None
        if given.get("format", "json") != "json":
            return None
        state = request.app.state
        try:
            plan = plan_rows(
                request, name, state.catalog_view, state.settings,
                limit=int(given["limit"]) if "limit" in given else None, cursor=given.get("cursor"),
                release=int(given["release"]) if "release" in given else None,
                select=given.get("select"), order=given.get("order"),
            )
        except OpendataError:
            return None
        return answer_at_once(
            request, plan.release, kind="rows", pinned=plan.pinned,
            compute=lambda: plan.body(state.engine, state.release_tables),
            computable=plan.in_memory(state.release_tables), extra_headers=plan.headers,
        )
