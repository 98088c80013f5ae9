"""HTML pages for people: catalog search with facets, organisations, dataset and release pages.

Thin routes: the work is in catalog.search, api.web.dataset_view and the templates. A name that does not
exist answers an HTML 404 page (people read these), not the API's JSON error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse

from api.deps import CatalogDep
from api.web.cards import card_facts
from api.web.dataset_view import dataset_view
from api.web.organization_view import organization_profile
from api.web.state import WebDep
from api.web.templating import STATIC_DIR, render
from catalog.search import FACETS, SearchQuery
from opendata.errors import CatalogError

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

FACET_TITLES = {"organization": "Organisation", "tag": "Tag", "license": "Licence", "format": "Format"}
Text = Annotated[str | None, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=100_000, description="page of results, from 1")]
Sort = Annotated[Literal["relevance", "updated", "name"] | None, Query()]
SORT_TITLES = {"relevance": "Best match", "updated": "Recently updated", "name": "Name (A to Z)"}
#: Datasets a catalog or organisation page lists.
PAGE_SIZE = 20


def pager(page: int, total: int, link: Callable[[int], str]) -> dict[str, object]:
    """What the templates' pager shows: this page, the page count, and links to the pages either side."""
    pages = max(1, -(-total // PAGE_SIZE))
    return {"page": page, "pages": pages, "total": total,
            "previous": link(page - 1) if page > 1 else None, "next": link(page + 1) if page < pages else None}


def not_found(request: Request, message: str) -> HTMLResponse:
    return render(request, "not_found.html", status=404, message=message, title="Not found")


@router.get("/catalog", name="web_home")
def home(
    request: Request, web: WebDep, catalog: CatalogDep, q: Text = None, organization: Text = None,
    tag: Text = None, license: Text = None, format: Text = None, page: PageNumber = 1, sort: Sort = None,
) -> HTMLResponse:
    query = SearchQuery(q=(q or "").strip() or None, organization=organization or None, tag=tag or None,
                        license=license or None, format=format or None)
    result = web.search.find(query, sort=sort, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    active = query.filters()

    def link(**change: str | None) -> str:
        params = {"q": query.q, **active, "sort": sort, **change}
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
        hidden=active, organizations=catalog.organization_count(), cards=card_facts(web, catalog, result.hits),
        sort=sort or ("relevance" if query.q else "name"), sorts=SORT_TITLES,
        suggestion_url=link(q=result.suggestion) if result.suggestion else None,
        pager=pager(page, result.total, lambda n: link(page=str(n) if n > 1 else None)),
    )


@router.get("/organizations", name="web_organizations")
def organizations(request: Request, catalog: CatalogDep) -> HTMLResponse:
    published = catalog.published_counts()
    found = [(o, published.get(o.name, 0)) for o in catalog.organizations()]
    return render(request, "organizations.html", title="Organisations", organizations=found)


@router.get("/organizations/{name}", name="web_organization")
def organization(request: Request, name: str, web: WebDep, catalog: CatalogDep, page: PageNumber = 1) -> HTMLResponse:
    found = catalog.organization(name)
    if found is None:
        return not_found(request, f"There is no organisation '{name}'.")
    result = web.search.search(SearchQuery(organization=name), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                               facets=False)
    base = f"/organizations/{quote(name)}"
    return render(request, "organization.html", title=found.title, organization=found, result=result,
                  profile=organization_profile(catalog, name), cards=card_facts(web, catalog, result.hits),
                  pager=pager(page, result.total, lambda n: base + (f"?page={n}" if n > 1 else "")))


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


@router.get("/favicon.ico", name="favicon", response_class=FileResponse)
def favicon() -> FileResponse:
    """The site's icon where browsers look for it without a link (the pages link the SVG one)."""
    return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/x-icon",
                        headers={"Cache-Control": "public, max-age=86400"})
