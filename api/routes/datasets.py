"""Datasets and their releases (published only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.deps import CatalogDep, LinksDep
from api.present import dataset_detail, dataset_summary, release_detail
from api.schemas import DatasetPublic, DatasetsPublic, ReleasePublic
from api.web.state import WebDep
from catalog.search import SearchQuery

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"])

Number = Annotated[int, Path(ge=1, le=2**31 - 1, description="release number")]


class FacetValuePublic(BaseModel):
    value: str
    count: int
    title: str | None = Field(default=None, description="display name (an organisation's title)")


class DatasetsSearchPublic(DatasetsPublic):
    q: str | None = Field(description="the search, when one was given; datasets are then ranked best first")
    facets: dict[str, list[FacetValuePublic]] = Field(
        description="organization, tag, license and format: counts over the datasets returned"
    )


@router.get("", name="list_datasets", response_model=DatasetsSearchPublic)
def list_datasets(
    catalog: CatalogDep,
    links: LinksDep,
    web: WebDep,
    organization: Annotated[str | None, Query(description="only this organisation's datasets")] = None,
    tag: Annotated[str | None, Query(description="only datasets with this tag")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="search titles, descriptions, tags and column names")
    ] = None,
    license: Annotated[str | None, Query(description="only datasets under this licence")] = None,
    format: Annotated[str | None, Query(description="only datasets offered in this format (Parquet, CSV, ...)")] = None,
) -> DatasetsSearchPublic:
    query = SearchQuery(q=(q or "").strip() or None, organization=organization, tag=tag, license=license, format=format)
    result = web.search.search(query)
    facets = {
        name: [FacetValuePublic(**v.model_dump()) for v in values] for name, values in result.facets.items()
    }
    return DatasetsSearchPublic(
        datasets=[dataset_summary(links, hit.dataset) for hit in result.hits], count=result.count, q=query.q,
        facets=facets,
    )


@router.get("/{name}", name="get_dataset", response_model=DatasetPublic)
def get_dataset(name: str, catalog: CatalogDep, links: LinksDep) -> DatasetPublic:
    dataset = catalog.dataset(name)
    return dataset_detail(links, dataset, catalog.releases(name))


@router.get("/{name}/releases/{number}", name="get_release", response_model=ReleasePublic)
def get_release(name: str, number: Number, catalog: CatalogDep, links: LinksDep) -> ReleasePublic:
    return release_detail(links, catalog.release(name, number))
