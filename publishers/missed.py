"""Missed releases: a scheduled dataset whose last release is older than its schedule allows.

A release is due at each fire time of the dataset's schedule (in its time zone) and may arrive up to
``missed_release_grace_seconds`` later. A dataset is flagged when its latest release (published or
awaiting approval) was made before the latest fire time whose grace has passed; a dataset that never
released is flagged once such a fire time has passed since its first run.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from catalog.store import Catalog
from publishers.scheduler import previous_fire


class MissedRelease(BaseModel):
    dataset: str
    schedule: str
    timezone: str
    due_at: str = Field(description="the scheduled time (UTC) whose release has not arrived")
    last_release: int | None = None
    last_release_at: str | None = Field(default=None, description="when the latest release was made (UTC)")
    last_run_state: str | None = None
    last_error: str | None = None


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def missed_releases(catalog: Catalog, now: datetime, grace_seconds: float) -> list[MissedRelease]:
    found: list[MissedRelease] = []
    for dataset in catalog.datasets(published_only=False):
        if not dataset.schedule:
            continue
        due = previous_fire(dataset.schedule, dataset.timezone, now - timedelta(seconds=grace_seconds))
        releases = [r for r in catalog.releases(dataset.name, published_only=False) if r.state != "rejected"]
        runs = catalog.runs(dataset.name, limit=1000)
        latest_run = runs[0] if runs else None
        if releases:
            if parse_utc(releases[-1].created_at) >= due:
                continue
        elif not runs or parse_utc(runs[-1].started_at) >= due:
            continue
        found.append(MissedRelease(
            dataset=dataset.name, schedule=dataset.schedule, timezone=dataset.timezone, due_at=_iso(due),
            last_release=releases[-1].number if releases else None,
            last_release_at=releases[-1].created_at if releases else None,
            last_run_state=latest_run.state if latest_run else None,
            last_error=latest_run.public_message if latest_run else None,
        ))
    return found
