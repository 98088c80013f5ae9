"""Typed catalog records: what the publish stage hands the catalog, and what the API reads."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

ReleaseState = Literal["published", "awaiting-approval", "rejected", "withdrawn"]
RunState = Literal[
    "queued", "running", "succeeded", "failed", "blocked", "quarantined", "awaiting-approval", "rejected"
]


class Organization(BaseModel):
    name: str
    title: str
    datasets: int = 0


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
    error: str | None = None
    report_folder: str | None = Field(default=None, description="private folder with the run's reports")
    stages: dict[str, float] = Field(default_factory=dict, description="stage -> seconds")
    attempt: int = Field(default=1, description="1 for the first try; retries of a transient failure count up")
    trigger: str = Field(default="manual", description="manual, schedule or queue")
    worker: str | None = Field(default=None, description="host:pid (or queue worker name) that ran it")
    rows_by_stage: dict[str, int] = Field(default_factory=dict, description="stage -> rows it handled")
