"""Datasets and their releases (published only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import CatalogDep, LinksDep
from api.present import dataset_detail, dataset_summary, release_detail
from api.schemas import DatasetPublic, DatasetsPublic, ReleasePublic

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"])

Number = Annotated[int, Path(ge=1, description="release number")]


@router.get("", name="list_datasets", response_model=DatasetsPublic)
def list_datasets(
    catalog: CatalogDep,
    links: LinksDep,
    organization: Annotated[str | None, Query(description="only this organisation's datasets")] = None,
    tag: Annotated[str | None, Query(description="only datasets with this tag")] = None,
) -> DatasetsPublic:
    found = [
        d for d in catalog.datasets()
        if (organization is None or d.organization == organization) and (tag is None or tag in d.tags)
    ]
    return DatasetsPublic(datasets=[dataset_summary(links, d) for d in found], count=len(found))


@router.get("/{name}", name="get_dataset", response_model=DatasetPublic)
def get_dataset(name: str, catalog: CatalogDep, links: LinksDep) -> DatasetPublic:
    dataset = catalog.dataset(name)
    return dataset_detail(links, dataset, catalog.releases(name))


@router.get("/{name}/releases/{number}", name="get_release", response_model=ReleasePublic)
def get_release(name: str, number: Number, catalog: CatalogDep, links: LinksDep) -> ReleasePublic:
    return release_detail(links, catalog.release(name, number))
