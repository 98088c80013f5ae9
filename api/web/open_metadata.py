"""Open metadata for harvesters: the DCAT-AP 3 catalog (JSON-LD, Turtle) and release history as JSON."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
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
from catalog.models import Dataset, Organization, Release
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
#: DCAT documents kept (a page of 100 datasets is about 1.7 MB of JSON-LD).
KEPT_PAGES = 32
_cache: OrderedDict[tuple[str, str, str], str] = OrderedDict()
_cache_lock = threading.Lock()


class ReleaseHistoryPublic(BaseModel):
    dataset: str
    releases: list[int]
    changes: list[ReleaseDiff]


@dataclass(frozen=True)
class _PageRecords:
    """What one page of the DCAT catalog says, read from the catalog (cheap: indexed, cached per dataset)."""

    datasets: list[Dataset]
    releases: dict[str, list[Release]]
    organizations: list[Organization]
    page: CatalogPage

    def digest(self) -> str:
        """Changes when anything the page shows changes (releases are immutable: their numbers and files)."""
        state = [(d.model_dump_json(), [(r.number, r.state, r.published_at, r.files) for r in self.releases[d.name]])
                 for d in self.datasets]
        return hashlib.sha256(repr((state, [(o.name, o.title) for o in self.organizations], self.page)).encode()
                              ).hexdigest()


def _records(view: CatalogView, url: str, number: int, size: int) -> _PageRecords:
    names, total = view.catalog.published_names(size, (number - 1) * size)
    last = max(1, -(-total // size))
    if number > last:
        raise QueryError(f"page {number} is past the last page of the catalog ({last}, {size} datasets "
                         "a page)", parameter="page")
    datasets = [view.dataset(name) for name in names if view.exists(name)]
    releases: dict[str, list[Release]] = {d.name: view.releases(d.name) for d in datasets}
    organizations = [agent for name in sorted({d.organization for d in datasets})
                     if (agent := view.catalog.organization(name)) is not None]
    return _PageRecords(datasets, releases, organizations,
                        CatalogPage(url=url, number=number, last=last, size=size, total=total))


def snapshot(web: WebState, settings: Settings, records: _PageRecords) -> CatalogSnapshot:
    """The DCAT snapshot of one page of the catalog's datasets (by name), described as a hydra
    PartialCollectionView: its records, and per release its DCAT facts as stored with it."""
    coverage = {}
    sizes = {}
    for found in records.releases.values():
        for release in found:
            facts = web.facts.dcat(release)
            if facts.coverage is not None:
                coverage[(release.dataset, release.number)] = facts.coverage
            for filename, bytes_ in facts.byte_sizes.items():
                sizes[(release.dataset, release.number, filename)] = bytes_
    return CatalogSnapshot(
        title=settings.catalog_title, description=CATALOG_DESCRIPTION, publisher=settings.catalog_publisher,
        datasets=records.datasets, organizations=records.organizations, releases=records.releases,
        coverage=coverage, sizes=sizes, page=records.page,
    )


def _catalog_document(
    request: Request, view: CatalogView, web: WebState, fmt: Literal["json-ld", "turtle"], page: int, size: int
) -> str:
    """A page of the DCAT catalog: one indexed page of names and the records of its datasets (nothing that
    grows with the catalog), then the document, kept (the last ``KEPT_PAGES``) while what the page says is
    unchanged, so a publish rebuilds only the page of the dataset it changed."""
    base = base_url(request)
    url = f"{base}{request.url.path}"
    records = _records(view, url, page, size)
    key = (fmt, base, records.digest())
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    text = serialize(build_graph(snapshot(web, request.app.state.settings, records), base), fmt)
    with _cache_lock:
        _cache[key] = text
        while len(_cache) > KEPT_PAGES:
            _cache.popitem(last=False)
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
