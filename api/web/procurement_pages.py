"""HTML pages per buyer and per supplier of a procurement family: their red flags in plain words, the
processes behind each flag, links to each indicator's methodology."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from api.deps import CatalogDep, EngineDep
from api.web.pages import not_found
from api.web.procurement_view import family_index, organization_page
from api.web.templating import render
from opendata.errors import CatalogError
from procurement.explain import NOTE

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Identifier = Annotated[str, Path(max_length=200)]


def _page(request: Request, catalog: CatalogDep, engine: EngineDep, family: str, kind: str,
          identifier: str) -> HTMLResponse:
    try:
        page = organization_page(catalog, engine, family, kind, identifier)
    except CatalogError as exc:
        return not_found(request, str(exc))
    return render(request, "procurement_organization.html", title=f"{page.name}: red flags", page=page, note=NOTE)


@router.get("/procurement/{family}/buyers/{identifier}", name="web_procurement_buyer")
def buyer(request: Request, family: str, identifier: Identifier, catalog: CatalogDep,
          engine: EngineDep) -> HTMLResponse:
    return _page(request, catalog, engine, family, "buyer", identifier)


@router.get("/procurement/{family}/suppliers/{identifier}", name="web_procurement_supplier")
def supplier(request: Request, family: str, identifier: Identifier, catalog: CatalogDep,
             engine: EngineDep) -> HTMLResponse:
    return _page(request, catalog, engine, family, "supplier", identifier)


@router.get("/procurement/{family}", name="web_procurement_family")
def family(request: Request, family: str, catalog: CatalogDep, engine: EngineDep) -> HTMLResponse:
    try:
        release, buyers, suppliers = family_index(catalog, engine, family)
    except CatalogError as exc:
        return not_found(request, str(exc))
    return render(request, "procurement_family.html", title=f"{family}: buyers and suppliers", family=family,
                  release=release, buyers=buyers, suppliers=suppliers, note=NOTE)
