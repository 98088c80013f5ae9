"""The runs page for stewards: recent runs per job, their state and duration, failures with their message.

Paged like ``/api/v1/runs``: ``RUNS_PER_PAGE`` runs a page, newest first (``?page=N``), grouped by job on
the page, with links to the pages either side; every run is on exactly one page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import CatalogDep, OptionalKey, PublishedDep, SettingsDep
from api.runs_totals import runs_page
from api.visibility import visible_datasets
from api.web.session import session_officer
from api.web.templating import render, seconds_between
from catalog.models import Run
from publishers.clock import Clock, SystemClock
from publishers.liveness import as_shown, find_interrupted
from publishers.missed import missed_releases

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

#: Runs a page holds (``/api/v1/runs`` pages by ``limit``/``offset``; this page by ``page``).
RUNS_PER_PAGE = 50
FAILED = {"failed", "blocked", "quarantined", "interrupted"}


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
    request: Request, catalog: CatalogDep, view: PublishedDep, settings: SettingsDep,
    dataset: Annotated[str | None, Query(max_length=80, description="only this job's runs")] = None,
    page: Annotated[int, Query(ge=1, le=100_000, description="page of runs, newest first, from 1")] = 1,
    key: OptionalKey = None,
) -> HTMLResponse:
    visible = visible_datasets(catalog, key or session_officer(request))  # a signed-in officer sees every job
    dead = find_interrupted(settings, catalog)  # runs whose process died show as interrupted at once
    recent, total = runs_page(view, dataset or None, None, limit=RUNS_PER_PAGE, offset=(page - 1) * RUNS_PER_PAGE,
                              published_only=visible is not None)
    recent = as_shown(recent, dead)
    jobs: dict[str, list[Run]] = {}
    for run in recent:
        jobs.setdefault(run.dataset, []).append(run)
    grouped = [JobRuns(name, found) for name, found in sorted(jobs.items())]
    clock: Clock = getattr(request.app.state, "clock", None) or SystemClock()
    missed = [m for m in missed_releases(catalog, clock.now().astimezone(UTC), settings.missed_release_grace_seconds,
                                         dataset or None) if visible is None or m.dataset in visible]
    pages = max(1, -(-total // RUNS_PER_PAGE))

    def link(number: int) -> str:
        params = {**({"dataset": dataset} if dataset else {}), **({"page": str(number)} if number > 1 else {})}
        return "/runs" + (f"?{urlencode(params)}" if params else "")

    first = (page - 1) * RUNS_PER_PAGE + 1
    pager = {"page": page, "pages": pages, "total": total, "shown": len(recent), "first": first,
             "last": first + len(recent) - 1,
             "previous": link(page - 1) if page > 1 else None, "next": link(page + 1) if page < pages else None}
    return render(
        request, "runs.html", title="Runs" if page == 1 else f"Runs, page {page}", jobs=grouped, dataset=dataset,
        failed_states=FAILED, run_seconds=run_seconds, missed=missed if page == 1 else [], pager=pager,
    )
