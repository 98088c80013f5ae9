"""``create_app(settings)``: the public query API over published releases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI

from api.engine import QueryEngine
from api.errors import install_error_handlers
from api.routes import datasets, meta, organizations, reports, rows
from api.schemas import ErrorPublic
from catalog.store import Catalog
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
        yield
        engine.close()

    app = FastAPI(
        title=TITLE,
        version=api_version(),
        description="Published releases of government open data: catalog, rows with filters and cursors, "
        "privacy and validation reports. Only published releases are readable.",
        docs_url="/docs",
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.catalog = Catalog(settings.paths.catalog_db)
    app.state.engine = engine
    install_error_handlers(app)
    errors: dict[int | str, dict[str, Any]] = {status: {"model": ErrorPublic} for status in (400, 404, 500)}
    for router in (meta.router, datasets.router, organizations.router, rows.router, reports.router):
        app.include_router(router, responses=errors)
    return app
