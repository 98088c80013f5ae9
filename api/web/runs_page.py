"""The runs page for stewards: recent runs per job, their state and duration, failures with their message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import CatalogDep, OptionalKey, SettingsDep
from api.visibility import visible_datasets
from api.web.session import session_officer
from api.web.templating import render, seconds_between
from catalog.models import Run
from publishers.clock import Clock, SystemClock
from publishers.missed import missed_releases

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

RUNS_PER_JOB = 10
FAILED = {"failed", "blocked", "quarantined"}


@dataclass(frozen=True)
class JobRuns:
    dataset: str
    runs: list[Run]

    @property
    def last(self) -> Run:
        return self.runs[0]

    @property
    def failures(self) -> int:
        return sum(r.state in FAILED for r in self.runs)


def run_seconds(run: Run) -> float | None:
    return seconds_between(run.started_at, run.ended_at)


@router.get("/runs", name="web_runs")
def runs(
    request: Request, catalog: CatalogDep, settings: SettingsDep,
    dataset: Annotated[str | None, Query(max_length=80, description="only this job's runs")] = None,
    key: OptionalKey = None,
) -> HTMLResponse:
    visible = visible_datasets(catalog, key or session_officer(request))  # a signed-in officer sees every job
    recent, _ = catalog.runs_page(dataset or None, limit=RUNS_PER_JOB if dataset else 500,
                                  published_only=visible is not None)
    jobs: dict[str, list[Run]] = {}
    for run in recent:
        jobs.setdefault(run.dataset, [])
        if len(jobs[run.dataset]) < RUNS_PER_JOB:
            jobs[run.dataset].append(run)
    grouped = [JobRuns(name, found) for name, found in sorted(jobs.items())]
    clock: Clock = getattr(request.app.state, "clock", None) or SystemClock()
    missed = [m for m in missed_releases(catalog, clock.now().astimezone(UTC), settings.missed_release_grace_seconds,
                                         dataset or None) if visible is None or m.dataset in visible]
    return render(
        request, "runs.html", title="Runs", jobs=grouped, dataset=dataset, failed_states=FAILED,
        run_seconds=run_seconds, missed=missed,
    )
