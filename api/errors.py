"""One JSON error shape for every API error, made by ``error_body`` and the handlers installed here.

    {"error": {"status": 404, "type": "not-found", "message": "...", "detail": {...}}}

``type`` is a stable kebab-case code: an OpendataError's ``code`` (``not-found``, ``invalid-query``),
``invalid-parameter`` for request validation, ``not-found``/``method-not-allowed`` for unknown paths
and methods, ``release-unavailable`` (503) for a release whose files the storage refuses, ``internal-error`` for
anything unexpected (logged; no traceback leaves the API).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from catalog.release_storage import OutsideStorage
from opendata.errors import (
    ActionConflict,
    CatalogError,
    Forbidden,
    OpendataError,
    QueryError,
    TransientError,
    Unauthorized,
)

log = logging.getLogger(__name__)

_HTTP_TYPES = {
    400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
    406: "not-acceptable", 429: "rate-limited",
}


def error_body(status: int, type: str, message: str, **detail: Any) -> dict[str, Any]:
    """The one error body of the API."""
    return {"error": {"status": status, "type": type, "message": message, "detail": detail}}


def error_response(
    status: int, type: str, message: str, headers: dict[str, str] | None = None, **detail: Any
) -> JSONResponse:
    return JSONResponse(error_body(status, type, message, **detail), status_code=status, headers=headers)


def status_of(exc: OpendataError) -> int:
    if isinstance(exc, CatalogError):
        return 404
    if isinstance(exc, Unauthorized):
        return 401
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, ActionConflict):
        return 409
    if isinstance(exc, QueryError):
        return 400
    if isinstance(exc, TransientError):
        return 503
    return 500


async def opendata_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OpendataError)
    status = status_of(exc)
    detail: dict[str, Any] = {}
    if isinstance(exc, QueryError) and exc.parameter:
        detail["parameter"] = exc.parameter
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc)
    headers = {"WWW-Authenticate": 'Bearer realm="opendata"'} if status == 401 else None
    return error_response(status, exc.code, str(exc), headers=headers, **detail)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"parameter": ".".join(str(part) for part in e.get("loc", ())[1:]) or None, "message": e.get("msg")}
        for e in exc.errors()
    ]
    message = "; ".join(f"{p['parameter']}: {p['message']}" for p in problems) or "invalid request"
    return error_response(400, "invalid-parameter", message, problems=problems)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = _HTTP_TYPES.get(exc.status_code, "http-error")
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"there is no API path {request.url.path}; see /docs for the paths there are"
    elif exc.status_code == 405:
        from api.http_methods import allowed_methods

        allow = ", ".join(allowed_methods(request.app, request.scope))
        message = f"{request.method} is not allowed on {request.url.path}; it takes {allow}"
        return error_response(405, kind, message, headers={**dict(exc.headers or {}), "Allow": allow})
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, kind, message, headers=dict(exc.headers or {}))


async def storage_refused(request: Request, exc: Exception) -> JSONResponse:
    """A release whose files lie outside the release storage (a symlink, a hand-edited folder): refused and
    logged for the operator, answered as unavailable rather than as a crash."""
    log.error("%s %s: the release storage refused a file: %s", request.method, request.url.path, exc)
    return error_response(503, "release-unavailable", "this release's files are not where the release storage "
                          "keeps them, so they are not served; the operator has been told")


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("%s %s failed unexpectedly", request.method, request.url.path, exc_info=exc)
    return error_response(
        500, "internal-error", "the server failed to answer this request; the failure has been logged"
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OpendataError, opendata_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(OutsideStorage, storage_refused)
    app.add_exception_handler(Exception, internal_error)
