"""HTML pages for people: catalog search with facets, organisations, dataset and release pages.

Thin routes: the work is in catalog.search, api.web.dataset_view and the templates. A name that does not
exist answers an HTML 404 page (people read these), not the API's JSON error.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import CatalogDep
from api.web.dataset_view import dataset_view
from api.web.state import WebDep
from api.web.templating import render
from catalog.search import FACETS, SearchQuery
from opendata.errors import CatalogError

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

FACET_TITLES = {"organization": "Organisation", "tag": "Tag", "license": "Licence", "format": "Format"}
Text = Annotated[str | None, Query(max_length=200)]


def not_found(request: Request, message: str) -> HTMLResponse:
    return render(request, "not_found.html", status=404, message=message, title="Not found")


@router.get("/catalog", name="web_home")
def home(
    request: Request, web: WebDep, catalog: CatalogDep, q: Text = None, organization: Text = None,
    tag: Text = None, license: Text = None, format: Text = None,
) -> HTMLResponse:
    query = SearchQuery(q=(q or "").strip() or None, organization=organization or None, tag=tag or None,
                        license=license or None, format=format or None)
    result = web.search.search(query)
    active = query.filters()

    def link(**change: str | None) -> str:
        params = {"q": query.q, **active, **change}
        kept = {k: v for k, v in params.items() if v}
        return "/catalog" + (f"?{urlencode(kept)}" if kept else "")

    facets = [
        {
            "name": name, "title": FACET_TITLES[name],
            "values": [
                {"value": v.value, "label": v.title or v.value, "count": v.count,
                 "active": active.get(name) == v.value,
                 "url": link(**{name: None if active.get(name) == v.value else v.value})}
                for v in result.facets[name]
            ],
        }
        for name in FACETS
    ]
    removable = [
        {"name": FACET_TITLES[k], "value": v, "url": link(**{k: None})} for k, v in active.items()
    ]
    return render(
        request, "home.html", title="Datasets", result=result, query=query, facets=facets, removable=removable,
        hidden=active, organizations=len(catalog.organizations()),
    )


@router.get("/organizations", name="web_organizations")
def organizations(request: Request, catalog: CatalogDep) -> HTMLResponse:
    published: dict[str, int] = {}
    for dataset in catalog.datasets():
        published[dataset.organization] = published.get(dataset.organization, 0) + 1
    found = [(o, published.get(o.name, 0)) for o in catalog.organizations()]
    return render(request, "organizations.html", title="Organisations", organizations=found)


@router.get("/organizations/{name}", name="web_organization")
def organization(request: Request, name: str, web: WebDep, catalog: CatalogDep) -> HTMLResponse:
    found = next((o for o in catalog.organizations() if o.name == name), None)
    if found is None:
        return not_found(request, f"There is no organisation '{name}'.")
    result = web.search.search(SearchQuery(organization=name))
    return render(request, "organization.html", title=found.title, organization=found, result=result)


@router.get("/datasets/{name}", name="web_dataset")
def dataset(request: Request, name: str, web: WebDep, catalog: CatalogDep) -> HTMLResponse:
    try:
        view = dataset_view(request, web, catalog, name, None)
    except CatalogError as exc:
        return not_found(request, str(exc))
    return render(request, "dataset.html", title=view.dataset.title, view=view)


@router.get("/datasets/{name}/releases/{number}", name="web_release")
def release(
    request: Request, name: str, number: Annotated[int, Path(ge=1, le=2**31 - 1)], web: WebDep, catalog: CatalogDep
) -> HTMLResponse:
    try:
        view = dataset_view(request, web, catalog, name, number)
    except CatalogError as exc:
        return not_found(request, str(exc))
    return render(request, "dataset.html", title=f"{view.dataset.title}, release {number}", view=view)
