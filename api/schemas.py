"""The ``...Public`` models: the only shapes that leave the API (each route's ``response_model``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from catalog.search_index import HitSummary


class ErrorDetailPublic(BaseModel):
    status: int
    type: str = Field(description="stable kebab-case code, e.g. not-found, invalid-query")
    message: str
    detail: dict[str, Any] = Field(default_factory=dict)


class ErrorPublic(BaseModel):
    error: ErrorDetailPublic


class DatasetSummaryPublic(HitSummary):
    # The fields of the summary each search document stores (``HitSummary``), then the dataset's URL: a page of
    # the listing is spliced from the stored summaries (``api.stored_hits``).
    url: str


class DatasetsPublic(BaseModel):
    datasets: list[DatasetSummaryPublic]
    count: int = Field(description="datasets in this page")
    total: int = Field(default=0, description="datasets matching, over every page")
    limit: int = Field(default=0, description="most datasets a page holds")
    next: str | None = Field(default=None, description="cursor of the next page, or null on the last page")


class ReleaseSummaryPublic(BaseModel):
    number: int
    created_at: str
    published_at: str | None
    rows: int
    url: str
    privacy_report_url: str
    validation_report_url: str
    data_url: str
    datapackage_url: str
    rows_url: str = Field(description="rows of this release (pins the release)")


class DatasetPublic(DatasetSummaryPublic):
    homepage: str | None
    frequency: str | None
    timezone: str = Field(default="UTC", description="the dataset's local zone (IANA): naive source times are "
                          "read in it; the API serves every datetime as RFC 3339 in UTC")
    updated_at: str
    rows_url: str
    table_schema: dict[str, Any] = Field(
        serialization_alias="schema", description="Table Schema of the latest release"
    )
    releases: list[ReleaseSummaryPublic]


class ReleaseFilePublic(BaseModel):
    name: str
    sha256: str
    url: str | None = Field(description="download URL, when the API serves this file")


class ReleasePublic(ReleaseSummaryPublic):
    dataset: str
    table_schema: dict[str, Any] = Field(serialization_alias="schema")
    files: list[ReleaseFilePublic]


class RowsPublic(BaseModel):
    rows: list[dict[str, Any]]
    next: str | None = Field(description="cursor of the next page, or null on the last page")
    release: int = Field(description="the release these rows come from; a cursor stays on it")


class OrganizationPublic(BaseModel):
    name: str
    title: str
    datasets: int


class OrganizationProfilePublic(BaseModel):
    """One organisation: what its page says of it (from its datasets' job files) and its published datasets."""

    name: str
    title: str
    description: str = Field(description="what the organisation is and does (empty when no job file says)")
    contact: str | None = Field(description="an e-mail address or an http(s) URL to ask about its data")
    website: str | None
    datasets: int = Field(description="its datasets with a published release")
    url: str = Field(description="its page")
    datasets_url: str = Field(description="its datasets in the catalog API")


class OrganizationsPublic(BaseModel):
    organizations: list[OrganizationPublic]
    count: int
    total: int = Field(default=0, description="organisations in all")


class HealthPublic(BaseModel):
    status: str
    catalog: str
    engine: str
    catalog_database: str = Field(default="sqlite", description="where the catalog lives: sqlite or postgresql")
    storage: str = Field(default="local", description="where release files live: local or s3")


class IndexPublic(BaseModel):
    title: str
    version: str
    links: dict[str, str]


class AggregatePublic(BaseModel):
    release: int = Field(description="the release aggregated")
    group_by: list[str]
    metrics: list[str] = Field(description="metric column names, e.g. count, sum_fare, avg_delay")
    rows: list[dict[str, Any]] = Field(description="one object per group: group columns then metrics")
    truncated: bool = Field(description="true when there were more groups than `limit`")


class SqlPublic(BaseModel):
    columns: list[str] = Field(description="result column names, in order")
    rows: list[dict[str, Any]] = Field(description="one object per row")
    row_count: int
    elapsed_ms: float = Field(description="time the engine took")


class SqlTablesPublic(BaseModel):
    tables: dict[str, list[str]] = Field(description="table name -> columns; `name` is the latest release, "
                                         "`name@N` release N")
    row_cap: int
    timeout_seconds: float
    datasets: int = Field(default=0, description="published datasets in all (the tables are paged by dataset)")
    offset: int = Field(default=0, description="datasets skipped before this page")
    limit: int = Field(default=100, description="most datasets a page lists")


class GeoBody(BaseModel):
    """The body of a POST rows, aggregate or export request: the ``intersects`` geo filter."""

    intersects: dict[str, Any] = Field(
        description="a GeoJSON geometry (Point, LineString, Polygon or their Multi forms); rows whose geometry "
        "meets it", examples=[{"type": "Polygon", "coordinates": [[[-75, 40], [-73, 40], [-73, 41], [-75, 40]]]}],
    )
