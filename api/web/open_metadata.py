"""Open metadata for harvesters: the DCAT-AP 3 catalog (JSON-LD, Turtle) and release history as JSON."""

from __future__ import annotations

import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel

from api.catalog_view import CatalogView
from api.deps import CatalogDep, PublishedDep
from api.web.dataset_view import base_url, read_privacy
from api.web.state import WebDep, WebState
from catalog.dcat import CatalogSnapshot, build_graph, serialize
from catalog.dcat_facts import CatalogPage
from catalog.history import ReleaseDiff, diff_releases, release_history
from catalog.models import Release
from opendata.errors import QueryError
from opendata.settings import Settings

router = APIRouter()

CATALOG_DESCRIPTION = (
    "Government open data published through a privacy gate: every release is anonymised, validated and "
    "numbered, with its privacy and validation reports."
)
MEDIA = {"json-ld": "application/ld+json", "turtle": "text/turtle; charset=utf-8"}
Page = Annotated[int, Query(ge=1, le=1_000_000, description="page of the catalog's datasets, from 1")]
PageSize = Annotated[int, Query(ge=1, le=1000, description="datasets a page")]
_cache: dict[tuple[str, str, int, int, int], str] = {}
_cache_lock = threading.Lock()


class ReleaseHistoryPublic(BaseModel):
    dataset: str
    releases: list[int]
    changes: list[ReleaseDiff]


def snapshot(
    view: CatalogView, web: WebState, settings: Settings, page: tuple[str, int, int]
) -> CatalogSnapshot:
    """The DCAT snapshot of one page ``(document URL, page, page size)`` of the catalog's datasets (by name),
    described as a hydra PartialCollectionView: one indexed page of names, then per dataset its cached
    record and releases, and per release its DCAT facts as stored with it (nothing scales with the catalog)."""
    url, number, size = page
    names, total = view.catalog.published_names(size, (number - 1) * size)
    last = max(1, -(-total // size))
    if number > last:
        raise QueryError(f"page {number} is past the last page of the catalog ({last}, {size} datasets "
                         "a page)", parameter="page")
    datasets = [view.dataset(name) for name in names if view.exists(name)]
    releases: dict[str, list[Release]] = {d.name: view.releases(d.name) for d in datasets}
    coverage = {}
    sizes = {}
    for found in releases.values():
        for release in found:
            facts = web.facts.dcat(release)
            if facts.coverage is not None:
                coverage[(release.dataset, release.number)] = facts.coverage
            for filename, bytes_ in facts.byte_sizes.items():
                sizes[(release.dataset, release.number, filename)] = bytes_
    organizations = [agent for name in sorted({d.organization for d in datasets})
                     if (agent := view.catalog.organization(name)) is not None]
    return CatalogSnapshot(
        title=settings.catalog_title, description=CATALOG_DESCRIPTION, publisher=settings.catalog_publisher,
        datasets=datasets, organizations=organizations, releases=releases, coverage=coverage, sizes=sizes,
        page=CatalogPage(url=url, number=number, last=last, size=size, total=total),
    )


def _catalog_document(
    request: Request, view: CatalogView, web: WebState, fmt: Literal["json-ld", "turtle"], page: int, size: int
) -> str:
    """A page of the DCAT catalog, kept (at most 32 documents) until the catalog's change counter moves."""
    base = base_url(request)
    url = f"{base}{request.url.path}"
    key = (fmt, url, page, size, view.version())
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    text = serialize(build_graph(snapshot(view, web, request.app.state.settings, (url, page, size)), base), fmt)
    with _cache_lock:
        if len(_cache) > 32:
            _cache.clear()
        _cache[key] = text
    return text


@router.get(
    "/catalog.jsonld", name="dcat_jsonld", tags=["open metadata"], response_class=Response,
    responses={200: {"content": {"application/ld+json": {}}}},
)
def catalog_jsonld(request: Request, view: PublishedDep, web: WebDep, page: Page = 1, page_size: PageSize = 100
                   ) -> Response:
    """The catalog as DCAT-AP 3 in JSON-LD: a dataset series per dataset, a dataset per published release;
    ``page_size`` datasets a page, linked as a hydra PartialCollectionView (``hydra:next``)."""
    return Response(_catalog_document(request, view, web, "json-ld", page, page_size), media_type=MEDIA["json-ld"])


@router.get(
    "/catalog.ttl", name="dcat_turtle", tags=["open metadata"], response_class=Response,
    responses={200: {"content": {"text/turtle": {}}}},
)
def catalog_turtle(request: Request, view: PublishedDep, web: WebDep, page: Page = 1, page_size: PageSize = 100
                   ) -> Response:
    """The catalog as DCAT-AP 3 in Turtle, paged like the JSON-LD."""
    return Response(_catalog_document(request, view, web, "turtle", page, page_size), media_type=MEDIA["turtle"])


@router.get(
    "/api/v1/datasets/{name}/history", name="release_history", tags=["datasets"],
    response_model=ReleaseHistoryPublic, response_model_by_alias=True,
)
def history(name: str, catalog: CatalogDep, web: WebDep) -> ReleaseHistoryPublic:
    """What changed from each published release to the next (schema, row count, privacy), newest first."""
    catalog.dataset(name)
    releases = catalog.releases(name)
    return ReleaseHistoryPublic(
        dataset=name, releases=[r.number for r in releases],
        changes=release_history(releases, lambda r: read_privacy(web, r)),
    )


@router.get(
    "/api/v1/datasets/{name}/releases/{number}/changes", name="release_changes", tags=["datasets"],
    response_model=ReleaseDiff, response_model_by_alias=True,
)
def changes(
    name: str, number: Annotated[int, Path(ge=1, le=2**31 - 1, description="release number")], catalog: CatalogDep,
    web: WebDep,
    since: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="the earlier release (default: the one before)")
    ] = None,
) -> ReleaseDiff:
    """What changed between an earlier release (``since``) and this one."""
    after = catalog.release(name, number)
    if since is None:
        earlier = [r for r in catalog.releases(name) if r.number < number]
        if not earlier:
            raise QueryError(
                f"release {number} is the first published release of '{name}'; there is nothing to compare it "
                "with", parameter="since",
            )
        before = earlier[-1]
    elif since == number:
        raise QueryError("since must name another release than the one compared", parameter="since")
    else:
        before = catalog.release(name, since)
    return diff_releases(before, after, read_privacy(web, before), read_privacy(web, after))
