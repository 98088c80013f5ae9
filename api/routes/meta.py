"""The index of links and the health check."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import CatalogDep, EngineDep, LinksDep
from api.schemas import HealthPublic, IndexPublic

router = APIRouter(tags=["meta"])


def prefers_html(accept: str) -> bool:
    """Whether an ``Accept`` header ranks HTML above JSON (a browser's does; ``*/*`` or none does not)."""
    quality = {"text/html": 0.0, "application/json": 0.0}
    for part in accept.split(","):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        for kind in quality:
            if media.lower() == kind:
                quality[kind] = max(quality[kind], q)
    return quality["text/html"] > quality["application/json"]


@router.get("/", name="index", response_model=IndexPublic, responses={
    303: {"description": "a browser (Accept ranks text/html above application/json) is sent to the catalog page"}})
def index(request: Request, response: Response, links: LinksDep) -> IndexPublic | RedirectResponse:
    """The index of links as JSON; a browser is redirected to the HTML catalog page."""
    response.headers["Vary"] = "Accept"
    if prefers_html(request.headers.get("accept", "")):
        return RedirectResponse(links.url("web_home"), status_code=303, headers={"Vary": "Accept"})
    base = str(request.base_url).rstrip("/")
    return IndexPublic(
        title=request.app.title,
        version=request.app.version,
        links={
            "datasets": links.url("list_datasets"),
            "organizations": links.url("list_organizations"),
            "health": links.url("healthz"),
            "docs": f"{base}/docs",
            "openapi": f"{base}/openapi.json",
        },
    )


@router.get("/healthz", name="healthz", response_model=HealthPublic)
def healthz(catalog: CatalogDep, engine: EngineDep) -> HealthPublic:
    catalog.organizations()
    engine.execute("SELECT 1")
    return HealthPublic(status="ok", catalog="ok", engine="ok", catalog_database=catalog.database.dialect,
                        storage=engine.storage.kind)
