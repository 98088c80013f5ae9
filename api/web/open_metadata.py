"""Open metadata for harvesters: the DCAT-AP 3 catalog (JSON-LD, Turtle) and release history as JSON."""

from __future__ import annotations

import hashlib
import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel

from api.deps import CatalogDep
from api.web.dataset_view import base_url, read_privacy
from api.web.state import WebDep, WebState
from catalog.dcat import CatalogSnapshot, build_graph, serialize
from catalog.history import ReleaseDiff, diff_releases, release_history
from catalog.models import Release
from catalog.store import Catalog
from opendata.errors import CatalogError, QueryError
from opendata.settings import Settings

router = APIRouter()

CATALOG_DESCRIPTION = (
    "Government open data published through a privacy gate: every release is anonymised, validated and "
    "numbered, with its privacy and validation reports."
)
MEDIA = {"json-ld": "application/ld+json", "turtle": "text/turtle; charset=utf-8"}
_cache: dict[tuple[str, str, str], str] = {}
_cache_lock = threading.Lock()


class ReleaseHistoryPublic(BaseModel):
    dataset: str
    releases: list[int]
    changes: list[ReleaseDiff]


def snapshot(catalog: Catalog, web: WebState, settings: Settings) -> CatalogSnapshot:
    datasets = catalog.datasets()
    releases: dict[str, list[Release]] = {}
    for release in catalog.all_releases():
        releases.setdefault(release.dataset, []).append(release)
    coverage = {}
    sizes = {}
    for found in releases.values():
        for release in found:
            if (span := web.facts.coverage(release)) is not None:
                coverage[(release.dataset, release.number)] = span
            try:
                size = web.facts.engine.storage.size(release, "data.parquet")
                sizes[(release.dataset, release.number, "data.parquet")] = size
            except (CatalogError, OSError):
                pass
    return CatalogSnapshot(
        title=settings.catalog_title, description=CATALOG_DESCRIPTION, publisher=settings.catalog_publisher,
        datasets=datasets,
        organizations=catalog.organizations(), releases=releases, coverage=coverage, sizes=sizes,
    )


def _catalog_document(request: Request, catalog: Catalog, web: WebState, fmt: Literal["json-ld", "turtle"]) -> str:
    base = base_url(request)
    state = [(d.model_dump_json(), [r.model_dump_json() for r in catalog.releases(d.name)]) for d in catalog.datasets()]
    digest = hashlib.sha256(repr(state).encode()).hexdigest()
    key = (fmt, base, digest)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    text = serialize(build_graph(snapshot(catalog, web, request.app.state.settings), base), fmt)
    with _cache_lock:
        if len(_cache) > 32:
            _cache.clear()
        _cache[key] = text
    return text


@router.get(
    "/catalog.jsonld", name="dcat_jsonld", tags=["open metadata"], response_class=Response,
    responses={200: {"content": {"application/ld+json": {}}}},
)
def catalog_jsonld(request: Request, catalog: CatalogDep, web: WebDep) -> Response:
    """The catalog as DCAT-AP 3 in JSON-LD: a dataset series per dataset, a dataset per published release."""
    return Response(_catalog_document(request, catalog, web, "json-ld"), media_type=MEDIA["json-ld"])


@router.get(
    "/catalog.ttl", name="dcat_turtle", tags=["open metadata"], response_class=Response,
    responses={200: {"content": {"text/turtle": {}}}},
)
def catalog_turtle(request: Request, catalog: CatalogDep, web: WebDep) -> Response:
    """The catalog as DCAT-AP 3 in Turtle."""
    return Response(_catalog_document(request, catalog, web, "turtle"), media_type=MEDIA["turtle"])


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
    name: str, number: Annotated[int, Path(ge=1, description="release number")], catalog: CatalogDep, web: WebDep,
    since: Annotated[int | None, Query(ge=1, description="the earlier release (default: the one before)")] = None,
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
