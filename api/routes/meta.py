"""The index of links and the health check."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import CatalogDep, EngineDep, LinksDep
from api.schemas import HealthPublic, IndexPublic

router = APIRouter(tags=["meta"])


@router.get("/", name="index", response_model=IndexPublic)
def index(request: Request, links: LinksDep) -> IndexPublic:
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
