"""``Annotated`` dependency shortcuts: what a route may ask for, built once per app in ``create_app``.

They are ``async`` because they only read ``app.state``: FastAPI runs a plain ``def`` dependency in its
thread pool, a hop that cost more than a cached answer itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from api.auth import ApiKey, optional_key, require_admin, require_key, require_officer
from api.catalog_view import CatalogView
from api.engine import QueryEngine
from api.present import Links
from api.release_tables import ReleaseTables
from catalog.store import Catalog
from opendata.settings import Settings


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


async def get_engine(request: Request) -> QueryEngine:
    engine: QueryEngine = request.app.state.engine
    return engine


async def get_release_tables(request: Request) -> ReleaseTables:
    tables: ReleaseTables = request.app.state.release_tables
    return tables


async def get_catalog_view(request: Request) -> CatalogView:
    view: CatalogView = request.app.state.catalog_view
    return view


async def get_links(request: Request) -> Links:
    return Links(request)


SettingsDep = Annotated[Settings, Depends(get_settings)]
#: ``?release=N`` of the routes that answer one release (default: the latest).
ReleaseQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="release number (default: latest)")]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
EngineDep = Annotated[QueryEngine, Depends(get_engine)]
LinksDep = Annotated[Links, Depends(get_links)]
ReleaseTablesDep = Annotated[ReleaseTables, Depends(get_release_tables)]
PublishedDep = Annotated[CatalogView, Depends(get_catalog_view)]
OptionalKey = Annotated[ApiKey | None, Depends(optional_key)]
AnyKey = Annotated[ApiKey, Depends(require_key)]
OfficerKey = Annotated[ApiKey, Depends(require_officer)]
AdminKey = Annotated[ApiKey, Depends(require_admin)]
