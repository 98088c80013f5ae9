"""Catalog records to ``...Public`` models, with absolute URLs built from the request's routes."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from api.schemas import (
    DatasetPublic,
    DatasetSummaryPublic,
    ReleaseFilePublic,
    ReleasePublic,
    ReleaseSummaryPublic,
)
from api.url_templates import url_for
from catalog.models import Dataset, Release

#: Release files the API serves, by file name -> route name.
FILE_ROUTES = {
    "data.parquet": "data_parquet",
    "datapackage.json": "datapackage",
    "privacy-report.json": "privacy_report",
    "validation-report.json": "validation_report",
}


class Links:
    def __init__(self, request: Request) -> None:
        self.request = request

    def url(self, route: str, **params: object) -> str:
        return url_for(self.request, route, **params)

    def dataset(self, name: str) -> str:
        return self.url("get_dataset", name=name)

    def release(self, name: str, number: int) -> str:
        return self.url("get_release", name=name, number=number)

    def file(self, name: str, number: int, filename: str) -> str | None:
        route = FILE_ROUTES.get(filename)
        return self.url(route, name=name, number=number) if route else None

    def rows(self, name: str, number: int | None = None) -> str:
        url = self.url("list_rows", name=name)
        return url if number is None else f"{url}?release={number}"


def dataset_summary(links: Links, dataset: Dataset) -> DatasetSummaryPublic:
    return DatasetSummaryPublic(
        **dataset.model_dump(include=set(DatasetSummaryPublic.model_fields) - {"url"}),
        url=links.dataset(dataset.name),
    )


def release_summary(links: Links, release: Release) -> ReleaseSummaryPublic:
    return ReleaseSummaryPublic(**_release_fields(links, release))


def release_detail(links: Links, release: Release) -> ReleasePublic:
    files = [
        ReleaseFilePublic(name=name, sha256=sha, url=links.file(release.dataset, release.number, name))
        for name, sha in sorted(release.files.items())
    ]
    return ReleasePublic(
        **_release_fields(links, release), dataset=release.dataset, table_schema=release.table_schema,
        files=files,
    )


def dataset_detail(links: Links, dataset: Dataset, releases: list[Release]) -> DatasetPublic:
    summary = dataset_summary(links, dataset)
    return DatasetPublic(
        **summary.model_dump(),
        homepage=dataset.homepage,
        frequency=dataset.frequency,
        timezone=dataset.timezone,
        updated_at=dataset.updated_at,
        rows_url=links.rows(dataset.name),
        table_schema=releases[-1].table_schema if releases else {},
        releases=[release_summary(links, r) for r in releases],
    )


def _release_fields(links: Links, release: Release) -> dict[str, Any]:
    name, number = release.dataset, release.number
    return {
        "number": number,
        "created_at": release.created_at,
        "published_at": release.published_at,
        "rows": release.rows,
        "url": links.release(name, number),
        "privacy_report_url": links.file(name, number, "privacy-report.json"),
        "validation_report_url": links.file(name, number, "validation-report.json"),
        "data_url": links.file(name, number, "data.parquet"),
        "datapackage_url": links.file(name, number, "datapackage.json"),
        "rows_url": links.rows(name, number),
    }
