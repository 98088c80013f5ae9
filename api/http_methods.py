"""HTTP manners the routes do not each implement: HEAD, OPTIONS, ``Allow`` and the request-size limits.

- ``HEAD`` on any GET path answers what GET answers, without the body (RFC 9110 §9.3.2).
- ``OPTIONS`` that is not a CORS preflight (CORSMiddleware, outside, answers those) is a 204 with
  ``Allow`` listing every method some route takes on that path; a 405 lists the same methods.
- A URL longer than ``MAX_URL_BYTES`` is a 414 and a JSON body nested deeper than ``MAX_JSON_DEPTH``
  a 400, both in the API's one error shape (CKAN's envelope on the CKAN paths).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body

MAX_URL_BYTES = 16_384
MAX_JSON_DEPTH = 64
CKAN_PREFIXES = ("/api/3/action/", "/api/action/")
PROBED = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(app: Any, scope: Scope) -> list[str]:
    """Every method a route of ``app`` takes on ``scope``'s path (HEAD with GET, OPTIONS always). Each
    method is probed through the routes' own matching, so routers included in routers count too."""
    methods: set[str] = {"OPTIONS"}
    for route in getattr(getattr(app, "router", None), "routes", []):
        for method in PROBED if not isinstance(route, Mount) else ("GET",):  # a mount (static files) reads
            if method not in methods and route.matches({**scope, "method": method})[0] == Match.FULL:
                methods.add(method)
    if "GET" in methods:
        methods.add("HEAD")
    order = [*PROBED[:1], "HEAD", *PROBED[1:], "OPTIONS"]
    return sorted(methods, key=order.index)


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``body`` nests arrays or objects deeper than ``limit`` (brackets inside strings ignored)."""
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def error_answer(path: str, status: int, type: str, message: str, headers: dict[str, str] | None = None) -> Response:
    if path.startswith(CKAN_PREFIXES):
        ckan_type = {404: "Not Found Error"}.get(status, "Bad Request")
        body: dict[str, Any] = {"success": False, "error": {"__type": ckan_type, "message": message}}
    else:
        body = error_body(status, type, message)
    return Response(json.dumps(body), status_code=status, media_type="application/json", headers=headers)


class HttpMethods:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if len(scope.get("raw_path") or path.encode()) + len(scope.get("query_string", b"")) > MAX_URL_BYTES:
            answer = error_answer(path, 414, "uri-too-long", f"the URL is over {MAX_URL_BYTES:,} bytes; send "
                                  "long queries in a POST body where the path takes one (SQL, CKAN actions)")
            await answer(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS":
            allow = allowed_methods(scope.get("app"), scope)
            if allow == ["OPTIONS"]:
                answer = error_answer(path, 404, "not-found", f"there is no API path {path}; see /docs for the "
                                      "paths there are")
            else:
                answer = Response(status_code=204, headers={"Allow": ", ".join(allow)})
            await answer(scope, receive, send)
            return
        if method == "HEAD":
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
            return
        if method in ("POST", "PUT", "PATCH") and "json" in _content_type(scope):
            body, receive = await _buffered(receive)
            if json_too_deep(body):
                answer = error_answer(path, 400, "bad-request",
                                      f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _content_type(scope: Scope) -> str:
    return Request(scope).headers.get("content-type", "").lower()


def _without_body(send: Send) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.body":
            if not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await send(message)

    return sender


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a ``receive`` that replays it for the app."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
