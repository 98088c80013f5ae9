"""CKAN's Action API: ``GET|POST /api/3/action/{name}`` and ``/api/action/{name}`` (where ckanapi posts).

Query parameters (GET) or a JSON object body (POST) are the action's data; the answer is CKAN's
envelope ``{"help", "success", "result" | "error"}``. See api/ckan/actions.py for the error types.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

import api.ckan.datastore  # noqa: F401  (registers the datastore actions)
import api.ckan.read_actions  # noqa: F401  (registers the read actions)
import api.ckan.write_actions  # noqa: F401  (registers the write actions)
from api.ckan.actions import ACTIONS, call_action, envelope_error
from api.values import dumps

router = APIRouter(tags=["ckan"])

_ENVELOPE = {"application/json": {"schema": {
    "type": "object", "required": ["help", "success"],
    "properties": {"help": {"type": "string"}, "success": {"type": "boolean"}, "result": {},
                   "error": {"type": "object", "properties": {"__type": {"type": "string"},
                                                              "message": {"type": "string"}}}},
}}}
#: What an action answers besides 200, always in CKAN's envelope (api/ckan/actions.py has the error types).
CKAN_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": _ENVELOPE} for status, text in (
        (400, "Bad Request: unknown action, body not a JSON object"), (403, "Authorization Error"),
        (404, "Not Found Error"), (409, "Validation Error"), (414, "Bad Request: URL too long"),
        (500, "Internal Server Error"), (503, "Service Unavailable"),
    )
}


async def _data(request: Request) -> dict[str, Any] | None:
    if request.method == "GET":
        return dict(request.query_params)
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if "form" in content_type:
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    if not body.strip():
        return dict(request.query_params)
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


#: The action names, documented as the path's enum (an unknown name is a 400 in CKAN's envelope).
ActionName = Annotated[str, Path(description="the action", json_schema_extra={"enum": sorted(ACTIONS)})]


async def action(name: ActionName, request: Request) -> Response:
    data = await _data(request)
    if data is None:
        status, body = envelope_error(400, "Bad Request", "Bad request - JSON Error: the body must be a JSON object")
    else:
        status, body = await run_in_threadpool(call_action, name, request, data)
    help_url = f"{str(request.base_url).rstrip('/')}/api/3/action/help_show?name={name}"
    return Response(dumps({"help": help_url, **body}), status_code=status, media_type="application/json")


for _prefix in ("/api/3/action", "/api/action"):
    for _method in ("GET", "POST"):
        _id = f"ckan{_prefix.replace('/', '_')}_{_method.lower()}"
        router.add_api_route(
            f"{_prefix}/{{name}}", action, methods=[_method], name=_id, operation_id=_id,
            summary="CKAN Action API", response_model=dict[str, Any], responses=CKAN_RESPONSES,
            description="CKAN-compatible actions: package_list, package_show, package_search, organization_list, "
            "organization_show, resource_show, datastore_search, datastore_search_sql, status_show, help_show "
            "(and write actions with an admin key). Data as query parameters (GET) or a JSON object (POST).",
        )
