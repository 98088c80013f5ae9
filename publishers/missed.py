"""Missed releases: a scheduled dataset whose last release is older than its schedule allows.

A release is due at each fire time of the dataset's schedule (in its time zone) and may arrive up to
``missed_release_grace_seconds`` later. A dataset is flagged when its latest release (published or
awaiting approval) was made before the latest fire time whose grace has passed, and no run since that
time found its source unchanged (state ``unchanged``); a dataset that never released is flagged once such
a fire time has passed since its first run.
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


def missed_releases(
    catalog: Catalog, now: datetime, grace_seconds: float, dataset: str | None = None
) -> list[MissedRelease]:
    """The scheduled datasets (or just ``dataset``) whose release is overdue at ``now``; one catalog query."""
    found: list[MissedRelease] = []
    for facts in catalog.scheduled(dataset):
        due = previous_fire(facts["schedule"], facts["timezone"], now - timedelta(seconds=grace_seconds))
        if facts.get("last_unchanged_at") is not None and parse_utc(facts["last_unchanged_at"]) >= due:
            continue  # a run since the fire time found the source unchanged: the latest release is current
        if facts["last_release_at"] is not None:
            if parse_utc(facts["last_release_at"]) >= due:
                continue
        elif facts["first_run_at"] is None or parse_utc(facts["first_run_at"]) >= due:
            continue
        found.append(MissedRelease(
            dataset=facts["name"], schedule=facts["schedule"], timezone=facts["timezone"], due_at=_iso(due),
            last_release=facts["last_release"], last_release_at=facts["last_release_at"],
            last_run_state=facts["last_run_state"], last_error=facts["last_error"],
        ))
    return found
