"""Run history and missed releases: ``GET /api/v1/runs``, ``GET /api/v1/runs/{run_id}``.

Private paths (the job file, the report folder in private storage) never leave the API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.deps import CatalogDep, OptionalKey, PublishedDep, SettingsDep
from api.runs_totals import runs_page
from api.visibility import visible_datasets
from catalog.models import Run, RunState
from opendata.errors import CatalogError
from publishers.clock import Clock, SystemClock
from publishers.liveness import as_shown, find_interrupted
from publishers.missed import MissedRelease, missed_releases, parse_utc

router = APIRouter(prefix="/api/v1/runs", tags=["runs"])


class RunPublic(BaseModel):
    run_id: str
    dataset: str
    state: RunState
    started_at: str
    ended_at: str | None
    seconds: float | None = Field(description="wall time from start to end")
    rows_in: int | None
    rows_out: int | None
    release: int | None
    error: str | None
    stages: dict[str, float] = Field(description="stage -> seconds")
    rows_by_stage: dict[str, int] = Field(description="stage -> rows it handled")
    attempt: int
    trigger: str
    worker: str | None


class RunsPublic(BaseModel):
    runs: list[RunPublic]
    count: int = Field(description="runs in this page")
    total: int = Field(default=0, description="runs matching, over every page")
    offset: int = Field(default=0, description="runs skipped before this page (newest first)")
    limit: int = Field(default=50, description="most runs a page holds")
    missed: list[MissedRelease] = Field(description="scheduled datasets whose release is overdue")


def run_public(run: Run) -> RunPublic:
    """A run as the API shows it: what failed without any source value, and no private path."""
    seconds = None
    if run.ended_at:
        seconds = (parse_utc(run.ended_at) - parse_utc(run.started_at)).total_seconds()
    shown = run.model_dump(exclude={"job_path", "report_folder", "error", "public_error"})
    return RunPublic(**shown, error=run.public_message, seconds=seconds)


def _now(request: Request) -> datetime:
    clock: Clock = getattr(request.app.state, "clock", None) or SystemClock()
    return clock.now().astimezone(UTC)


@router.get("", name="list_runs", response_model=RunsPublic)
def list_runs(
    request: Request,
    catalog: CatalogDep,
    view: PublishedDep,
    settings: SettingsDep,
    dataset: Annotated[str | None, Query(max_length=80, description="only this dataset's runs")] = None,
    state: Annotated[RunState | None, Query(description="only runs in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="most runs a page holds")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="runs to skip, newest first")] = 0,
    key: OptionalKey = None,
) -> RunsPublic:
    visible = visible_datasets(catalog, key)
    dead = find_interrupted(settings, catalog)  # runs whose process died show as interrupted at once
    runs, total = runs_page(view, dataset, state, limit=limit, offset=offset, published_only=visible is not None)
    runs = as_shown(runs, dead)
    missed = [m for m in missed_releases(catalog, _now(request), settings.missed_release_grace_seconds, dataset)
              if visible is None or m.dataset in visible]
    return RunsPublic(runs=[run_public(r) for r in runs], count=len(runs), total=total, offset=offset, limit=limit,
                      missed=missed)


@router.get("/missed", name="list_missed_releases", response_model=list[MissedRelease])
def list_missed(request: Request, catalog: CatalogDep, settings: SettingsDep, key: OptionalKey = None
                ) -> list[MissedRelease]:
    visible = visible_datasets(catalog, key)
    return [m for m in missed_releases(catalog, _now(request), settings.missed_release_grace_seconds)
            if visible is None or m.dataset in visible]


@router.get("/{run_id}", name="get_run", response_model=RunPublic)
def get_run(run_id: str, catalog: CatalogDep, settings: SettingsDep, key: OptionalKey = None) -> RunPublic:
    dead = find_interrupted(settings, catalog)
    run = as_shown([catalog.run(run_id)], dead)[0]
    visible = visible_datasets(catalog, key)
    if visible is not None and run.dataset not in visible:
        raise CatalogError(f"run '{run_id}' does not exist")
    return run_public(run)
