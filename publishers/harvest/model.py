"""What a harvester hands the job-file writer, and the per-source report it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

Outcome = Literal["new", "changed", "removed", "skipped"]


@dataclass(frozen=True)
class Candidate:
    """One tabular resource of the portal, as our job keys: ``key`` is stable across harvests (the
    portal's resource id or distribution URI), ``modified`` the portal's last-change stamp (the cursor)."""

    key: str
    name: str
    title: str
    organization: str
    license: str
    source: dict[str, Any]
    modified: str | None = None
    description: str = ""
    organization_title: str | None = None
    tags: list[str] = field(default_factory=list)
    homepage: str | None = None
    frequency: str | None = None
    schedule: str | None = None
    #: Table Schema fields the portal declares (the DataStore's); None: infer them from a sample.
    fields: list[dict[str, Any]] | None = None


class HarvestEntry(BaseModel):
    """One source's outcome: a job written anew, rewritten, removed, or skipped (with why)."""

    source: str = Field(description="the portal's resource id or distribution URI")
    dataset: str | None = None
    outcome: Outcome
    why: str = ""
    job_file: str | None = None


class HarvestReport(BaseModel):
    origin: str
    cursor: str | None = Field(default=None, description="highest modified stamp seen (metadata_modified)")
    entries: list[HarvestEntry] = Field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for e in self.entries if e.outcome == outcome)

    def summary(self) -> str:
        return (f"harvested {self.origin}: {self.count('new')} new, {self.count('changed')} changed, "
                f"{self.count('removed')} removed, {self.count('skipped')} skipped")
