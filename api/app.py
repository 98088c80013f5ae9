"""``create_app(settings)``: the public query API over published releases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from api import web
from api.auth import KeyResolver
from api.catalog_view import CatalogView
from api.compress import GZIP_MIN_BYTES
from api.cors import CorsMiddleware
from api.engine import QueryEngine
from api.errors import install_error_handlers
from api.http_cache import ResponseCache
from api.http_methods import HttpMethods
from api.openapi import install_openapi
from api.ratelimit import RateLimitMiddleware
from api.release_tables import ReleaseTables
from api.routes import (
    aggregate,
    alerts,
    approvals,
    ckan,
    datasets,
    docs,
    events,
    exports,
    meta,
    organizations,
    privacy,
    privacy_page,
    red_flags,
    reports,
    rows,
    sql,
    subscriptions,
    transit,
    validation_pages,
)
from api.routes import runs as runs_routes
from api.rows_lane import RowsLane
from api.schemas import ErrorPublic
from api.sql_engine import SqlEngine
from api.sql_lane import SqlLane
from api.web import officer_pages
from api.web.session import Sessions
from api.webhook_delivery import Dispatcher
from catalog.api_keys import ApiKeyStore
from catalog.events import EventLog
from catalog.store import open_catalog
from catalog.webhooks import WebhookStore
from opendata.settings import Settings

TITLE = "Open data API"


def api_version() -> str:
    try:
        return version("opendata-platform")
    except PackageNotFoundError:
        return "0.0.0"


def create_app(settings: Settings) -> FastAPI:
    engine = QueryEngine(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dispatcher = Dispatcher(settings, app.state.catalog, engine) if settings.webhook_dispatch else None
        if dispatcher is not None:
            dispatcher.start()
        yield
        if dispatcher is not None:
            dispatcher.close()
        engine.close()
        app.state.sql_engine.close()
        app.state.catalog_view.close()

    app = FastAPI(
        title=TITLE,
        version=api_version(),
        description="Published releases of government open data: catalog, rows with filters and cursors, "
        "privacy and validation reports. Only published releases are readable.",
        docs_url=None,  # served from our own Swagger UI / ReDoc files (api/routes/docs.py)
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.catalog = open_catalog(settings)
    app.state.engine = engine
    app.state.release_tables = ReleaseTables(engine, settings.release_memory_rows)
    app.state.catalog_view = CatalogView(app.state.catalog)
    app.state.key_resolver = KeyResolver(ApiKeyStore(app.state.catalog.database))
    app.state.sessions = Sessions(settings, app.state.key_resolver.store)  # officers' sign-in (api/web/session.py)
    app.state.response_cache = ResponseCache(settings.response_cache_entries)
    app.state.sql_engine = SqlEngine(settings)
    app.state.event_log = EventLog(app.state.catalog.database)
    app.state.webhooks = WebhookStore(app.state.catalog.database)
    install_error_handlers(app)
    install_middleware(app, settings)
    install_openapi(app)
    errors: dict[int | str, dict[str, Any]] = {status: {"model": ErrorPublic} for status in (400, 404, 500)}
    errors.update({status: {"model": ErrorPublic} for status in (401, 403, 414, 429)})  # 414: URL over the limit
    for router in (
        meta.router, datasets.router, organizations.router, rows.router, aggregate.router, exports.router,
        reports.router, sql.router, red_flags.router, events.router, subscriptions.router, alerts.router,
        transit.router,
    ):
        app.include_router(router, responses=errors)
    app.include_router(docs.router, responses=errors)  # Swagger UI, ReDoc, each dataset's OpenAPI
    app.include_router(ckan.router)
    app.include_router(web.router, responses=errors)  # HTML pages, DCAT, release history
    app.include_router(runs_routes.router, responses=errors)  # run history, missed releases
    app.include_router(privacy.router, responses=errors)  # officer decisions
    app.include_router(approvals.router, responses=errors)  # the officer's inbox (GET /api/v1/approvals)
    app.include_router(officer_pages.router)  # sign-in, the approvals page, the decision forms
    app.include_router(privacy_page.router, responses=errors)  # the privacy report page
    app.include_router(validation_pages.router, responses=errors)  # the validation report page
    app.mount("/privacy-static", StaticFiles(directory=privacy_page.STATIC_DIR), name="privacy-static")
    app.mount(docs.STATIC_URL, StaticFiles(directory=docs.STATIC_DIR), name="docs-static")
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    return app


EXPOSED_HEADERS = [
    "ETag", "Link", "Retry-After", "X-Release", "X-Next-Cursor", "RateLimit-Limit", "RateLimit-Remaining",
    "RateLimit-Reset", "RateLimit-Policy", "Content-Disposition",
]


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Outermost last: CORS (so 401/429 carry CORS headers too), gzip, the rate limiter, HTTP methods and
    request limits (``api/http_methods.py``), then the lean lanes of rows answers that need no waiting
    (``api/rows_lane.py``) and of SQL GETs (``api/sql_lane.py``)."""
    app.add_middleware(SqlLane)
    app.add_middleware(RowsLane)
    app.add_middleware(HttpMethods)  # HEAD, OPTIONS, URL length and JSON depth (before the lean rows lane)
    app.add_middleware(RateLimitMiddleware, settings=settings, resolver=app.state.key_resolver)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=5)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    app.add_middleware(
        CorsMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "X-API-Key", "Content-Type", "If-None-Match"],
        expose_headers=EXPOSED_HEADERS, max_age=600,
    )
