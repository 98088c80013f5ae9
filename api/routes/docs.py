"""API documentation: Swagger UI and ReDoc from our own files, and each dataset's OpenAPI document.

The Swagger UI and ReDoc bundles come from PyPI's ``fastapi-offline`` package (its ``static`` folder, mounted
at ``/docs-static``), so ``/docs`` works without internet. ``/openapi.json`` is the generic document;
``/api/v1/datasets/{name}/openapi.json`` adds one dataset's typed rows and column filters, and
``/api/v1/datasets/{name}/docs`` is Swagger UI over it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from api.deps import EngineDep, PublishedDep
from api.engine import QueryEngine
from api.openapi import dataset_document
from catalog.models import Release

STATIC_DIR = Path(fastapi_offline.__file__).parent / "static"
STATIC_URL = "/docs-static"

router = APIRouter()


def swagger_page(openapi_url: str, title: str) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=openapi_url, title=title, swagger_js_url=f"{STATIC_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{STATIC_URL}/swagger-ui.css", swagger_favicon_url=f"{STATIC_URL}/favicon.png",
    )


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    return swagger_page("/openapi.json", f"{request.app.title} - Swagger UI")


@router.get("/redoc", include_in_schema=False)
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url="/openapi.json", title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{STATIC_URL}/redoc.standalone.js", redoc_favicon_url=f"{STATIC_URL}/favicon.png",
        with_google_fonts=False,
    )


@router.get(
    "/api/v1/datasets/{name}/openapi.json", name="dataset_openapi", tags=["datasets"],
    response_model=dict[str, Any],
    description="An OpenAPI 3.1 document of one published dataset's rows: its typed row schema (named "
    "`<name>.row`) and a query parameter per column filter.",
)
def dataset_openapi(name: str, request: Request, published: PublishedDep, engine: EngineDep) -> dict[str, Any]:
    dataset = published.dataset(name)
    release = published.release(name)
    return dataset_document(request.app.openapi(), dataset, release, instants=instant_columns(engine, release))


_instants: dict[str, frozenset[str]] = {}


def instant_columns(engine: QueryEngine, release: Release) -> frozenset[str]:
    """The release's TIMESTAMPTZ columns (RFC 3339 with an offset); releases published before instants hold
    naive timestamps. Read from the Parquet footer once per (immutable) release file."""
    path = engine.release_file(release, "data.parquet")
    if path not in _instants:
        described = engine.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).to_pylist()
        if len(_instants) > 1024:
            _instants.clear()
        _instants[path] = frozenset(
            str(r["column_name"]) for r in described if r["column_type"] == "TIMESTAMP WITH TIME ZONE"
        )
    return _instants[path]


@router.get("/api/v1/datasets/{name}/docs", include_in_schema=False)
def dataset_docs(name: str, request: Request, published: PublishedDep) -> HTMLResponse:
    dataset = published.dataset(name)
    return swagger_page(f"/api/v1/datasets/{name}/openapi.json", f"{dataset.title} - {request.app.title}")
