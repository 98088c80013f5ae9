"""The CKAN Action API registry and dispatcher.

Every action, ours and other modules', registers the same way::

    register_action("package_show", package_show)                 # read: anyone
    register_action("package_create", package_create, write=True)  # write: an admin API key

A handler is ``handler(ctx: ActionContext, data: dict) -> JSON-able``. It raises the platform's errors
and the dispatcher answers in CKAN's envelope ``{"help", "success", "result"}`` or with CKAN's error
types: CatalogError -> 404 "Not Found Error"; QueryError -> 409 "Validation Error"; SearchQueryError
-> 400 "Search Query Error"; Unauthorized/Forbidden -> 403 "Authorization Error"; ActionConflict -> 409
"Validation Error"; an unknown action or a body that is not a JSON object -> 400 "Bad Request".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from api.auth import ApiKey, request_key, require_admin
from api.catalog_view import CatalogView
from api.engine import QueryEngine
from api.sql_engine import SqlEngine
from catalog.store import Catalog
from opendata.errors import (
    ActionConflict,
    CatalogError,
    Forbidden,
    OpendataError,
    QueryError,
    SearchQueryError,
    Unauthorized,
)
from opendata.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionContext:
    request: Request
    settings: Settings
    catalog: Catalog
    published: CatalogView
    engine: QueryEngine
    sql_engine: SqlEngine
    api_key: ApiKey | None

    @property
    def base_url(self) -> str:
        return str(self.request.base_url).rstrip("/")


Handler = Callable[[ActionContext, dict[str, Any]], Any]


@dataclass(frozen=True)
class Action:
    name: str
    handler: Handler
    write: bool


ACTIONS: dict[str, Action] = {}


def register_action(name: str, handler: Handler, *, write: bool = False) -> None:
    """Serve ``handler`` as the action ``name``; ``write=True`` requires an admin API key."""
    ACTIONS[name] = Action(name, handler, write)


class BadRequest(Exception):
    """A request CKAN answers with 400 "Bad Request" (unknown action, body not a JSON object)."""


def context_of(request: Request) -> ActionContext:
    state = request.app.state
    return ActionContext(
        request=request, settings=state.settings, catalog=state.catalog, published=state.catalog_view,
        engine=state.engine, sql_engine=state.sql_engine, api_key=request_key(request),
    )


def envelope_error(status: int, type_: str, message: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    return status, {"success": False, "error": {"__type": type_, "message": message, **extra}}


def call_action(name: str, request: Request, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """``(status, body without help)`` for one action call."""
    try:
        action = ACTIONS.get(name)
        if action is None:
            raise BadRequest(f"Action name not known: {name}")
        context = context_of(request)
        if action.write:
            require_admin(request)
        return 200, {"success": True, "result": action.handler(context, data)}
    except BadRequest as exc:
        return envelope_error(400, "Bad Request", f"Bad request - {exc}")
    except (Unauthorized, Forbidden) as exc:
        return envelope_error(403, "Authorization Error", f"Access denied: {exc}")
    except CatalogError as exc:
        return envelope_error(404, "Not Found Error", f"Not found: {exc}")
    except SearchQueryError as exc:
        return envelope_error(400, "Search Query Error", f"Search Query is invalid: {exc}")
    except QueryError as exc:
        field = exc.parameter or "__all__"
        return envelope_error(409, "Validation Error", f"Validation Error: {exc}", **{field: [str(exc)]})
    except ActionConflict as exc:
        return envelope_error(409, "Validation Error", f"Validation Error: {exc}")
    except OpendataError as exc:
        log.error("CKAN action %s failed: %s", name, exc)
        return envelope_error(500, "Internal Error", str(exc))
