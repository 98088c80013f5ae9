"""Typed catalog records: what the publish stage hands the catalog, and what the API reads."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

ReleaseState = Literal["published", "awaiting-approval", "rejected", "withdrawn"]
RunState = Literal[
    "queued", "running", "succeeded", "failed", "blocked", "quarantined", "awaiting-approval", "rejected",
    "unchanged", "interrupted",
]


class Organization(BaseModel):
    name: str
    title: str
    datasets: int = 0


class OrganizationProfile(BaseModel):
    """What an organisation's page says of it, from its datasets' job files (``organization_description``,
    ``organization_contact``, ``organization_website``); the most recently updated dataset's wins."""

    description: str = ""
    contact: str | None = Field(default=None, description="an e-mail address or an http(s) URL")
    website: str | None = None


class ContactPoint(BaseModel):
    """Who answers questions about a dataset (DCAT's ``dcat:contactPoint``, a vCard)."""

    name: str
    email: str | None = None
    url: str | None = None


class TemporalCoverage(BaseModel):
    """The period a dataset covers as its publisher declares it (ISO dates; either end may be open)."""

    start: str | None = None
    end: str | None = None


#: Dataset fields stored together as the datasets table's ``metadata`` JSON column.
METADATA_FIELDS = ("contact_point", "spatial", "temporal_coverage", "themes", "organization_profile")


class Dataset(BaseModel):
    name: str
    organization: str
    title: str
    description: str
    license: str
    tags: list[str] = Field(default_factory=list)
    schedule: str | None = None
    timezone: str = "UTC"
    frequency: str | None = None
    homepage: str | None = None
    updated_at: str
    latest_release: int | None = None
    contact_point: ContactPoint | None = None
    spatial: list[str] = Field(default_factory=list, description="URIs of the places covered (dct:spatial)")
    temporal_coverage: TemporalCoverage | None = None
    themes: list[str] = Field(default_factory=list, description="EU data theme codes such as ENVI, TRAN")
    organization_profile: OrganizationProfile | None = None


class Release(BaseModel):
    """One immutable, numbered release of a dataset."""

    dataset: str
    number: int
    state: ReleaseState
    created_at: str
    published_at: str | None = None
    rows: int
    table_schema: dict[str, Any] = Field(description="the exact Frictionless Table Schema of the data")
    folder: str = Field(description="release folder, relative to the public releases folder")
    files: dict[str, str] = Field(default_factory=dict, description="file name -> sha256")
    run_id: str
    policy_hash: str


class Run(BaseModel):
    run_id: str
    dataset: str
    job_path: str
    state: RunState
    started_at: str
    ended_at: str | None = None
    rows_in: int | None = None
    rows_out: int | None = None
    release: int | None = None
    error: str | None = Field(default=None, description="what failed, in full (private: it may quote source values)")
    public_error: str | None = Field(
        default=None, description="what failed without any source value: file, line, column, error kind"
    )
    report_folder: str | None = Field(default=None, description="private folder with the run's reports")
    stages: dict[str, float] = Field(default_factory=dict, description="stage -> seconds")
    attempt: int = Field(default=1, description="1 for the first try; retries of a transient failure count up")
    trigger: str = Field(default="manual", description="manual, schedule or queue")
    worker: str | None = Field(default=None, description="host:pid (or queue worker name) that ran it")
    rows_by_stage: dict[str, int] = Field(default_factory=dict, description="stage -> rows it handled")

    @property
    def public_message(self) -> str | None:
        """The error as the public side shows it: never the private message, which may quote the source."""
        if self.public_error is not None or self.error is None:
            return self.public_error
        return f"the run {self.state}; its private report holds the details (opendata report --run {self.run_id})"
