"""Open metadata for harvesters: the DCAT-AP 3 catalog (JSON-LD, Turtle) and release history as JSON."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel

from api.deps import CatalogDep
from api.web.dataset_view import base_url, read_privacy
from api.web.profile import ReleaseFacts
from api.web.state import WebDep, WebState
from catalog.dcat import CatalogSnapshot, Coverage
from catalog.dcat_facts import CatalogPage
from catalog.dcat_page import CatalogText, FactsOf, FragmentCache, PageRecords, Syntax, page_document
from catalog.history import ReleaseDiff, diff_releases, release_history
from catalog.models import Organization, Release
from catalog.release_dcat import DcatFacts
from catalog.store import Catalog
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
_fragments_lock = threading.Lock()


class ReleaseHistoryPublic(BaseModel):
    dataset: str
    releases: list[int]
    changes: list[ReleaseDiff]


def page_records(catalog: Catalog, url: str, number: int, size: int) -> PageRecords:
    """One page of the catalog's datasets, read by key: a page of names, their records and releases (two
    queries) and their agencies' titles (one): nothing that grows with the catalog."""
    names, total = catalog.published_names(size, (number - 1) * size)
    last = max(1, -(-total // size))
    if number > last:
        raise QueryError(f"page {number} is past the last page of the catalog ({last}, {size} datasets "
                         "a page)", parameter="page")
    entries = catalog.published_datasets(names)
    titles = catalog.organization_titles(sorted({dataset.organization for dataset, _ in entries}))
    return PageRecords(entries, titles, CatalogPage(url=url, number=number, last=last, size=size, total=total))


def about(settings: Settings) -> CatalogText:
    return CatalogText(settings.catalog_title, CATALOG_DESCRIPTION, settings.catalog_publisher)


def release_facts(kept: ReleaseFacts, catalog: Catalog | None = None, records: PageRecords | None = None) -> FactsOf:
    """A release's DCAT facts (coverage, byte sizes): with ``catalog`` and ``records``, those the catalog keeps
    with the page's releases (``catalog.release_dcat``, read in one query when a fragment first needs them);
    else, and for a release without them, as stored in its ``facts.json``, kept per release."""
    page: dict[tuple[str, int], DcatFacts] | None = None

    def facts(release: Release) -> tuple[Coverage | None, dict[str, int]]:
        nonlocal page
        if catalog is not None and records is not None:
            if page is None:
                page = catalog.release_dcat((r.dataset, r.number) for _, found in records.entries for r in found)
            read = page.get((release.dataset, release.number))
            if read is not None:
                return read.coverage, read.byte_sizes
        found = kept.dcat(release)
        return found.coverage, found.byte_sizes
    return facts


def snapshot(facts: FactsOf, settings: Settings, records: PageRecords) -> CatalogSnapshot:
    """The same page as a ``CatalogSnapshot``, for the reference build (``catalog.dcat.build_graph``)."""
    coverage = {}
    sizes = {}
    for _, found in records.entries:
        for release in found:
            covered, byte_sizes = facts(release)
            if covered is not None:
                coverage[(release.dataset, release.number)] = covered
            for filename, bytes_ in byte_sizes.items():
                sizes[(release.dataset, release.number, filename)] = bytes_
    organizations = [Organization(name=n, title=t, datasets=0) for n, t in records.organization_titles.items()]
    return CatalogSnapshot(
        title=settings.catalog_title, description=CATALOG_DESCRIPTION, publisher=settings.catalog_publisher,
        datasets=[d for d, _ in records.entries], organizations=organizations,
        releases={d.name: r for d, r in records.entries}, coverage=coverage, sizes=sizes, page=records.page,
    )


def fragment_cache(request: Request) -> FragmentCache:
    """The app's DCAT fragments (one cache per app, made on first use)."""
    state = request.app.state
    cache: FragmentCache | None = getattr(state, "dcat_fragments", None)
    if cache is None:
        with _fragments_lock:
            cache = getattr(state, "dcat_fragments", None)
            if cache is None:
                cache = state.dcat_fragments = FragmentCache()
    return cache


def _catalog_document(request: Request, catalog: Catalog, web: WebState, syntax: Syntax, page: int,
                      size: int) -> str:
    """A page of the DCAT catalog, written from the kept fragments of its datasets (``catalog.dcat_page``)."""
    base = base_url(request)
    records = page_records(catalog, f"{base}{request.url.path}", page, size)
    return page_document(syntax, base, about(request.app.state.settings), records, fragment_cache(request),
                         release_facts(web.facts, catalog, records))


@router.get(
    "/catalog.jsonld", name="dcat_jsonld", tags=["open metadata"], response_class=Response,
    responses={200: {"content": {"application/ld+json": {}}}},
)
def catalog_jsonld(request: Request, catalog: CatalogDep, web: WebDep, page: Page = 1, page_size: PageSize = 100
                   ) -> Response:
    """The catalog as DCAT-AP 3 in JSON-LD: a dataset series per dataset, a dataset per published release;
    ``page_size`` datasets a page, linked as a hydra PartialCollectionView (``hydra:next``)."""
    return Response(_catalog_document(request, catalog, web, "json-ld", page, page_size),
                    media_type=MEDIA["json-ld"])


@router.get(
    "/catalog.ttl", name="dcat_turtle", tags=["open metadata"], response_class=Response,
    responses={200: {"content": {"text/turtle": {}}}},
)
def catalog_turtle(request: Request, catalog: CatalogDep, web: WebDep, page: Page = 1, page_size: PageSize = 100
                   ) -> Response:
    """The catalog as DCAT-AP 3 in Turtle, paged like the JSON-LD."""
    return Response(_catalog_document(request, catalog, web, "turtle", page, page_size),
                    media_type=MEDIA["turtle"])


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
