"""The privacy officer's inbox: every release awaiting a decision, across datasets, oldest first.

Each entry says what changed since the dataset's previous published release (rows, columns added,
removed or retyped, the privacy policy, new findings) through :func:`catalog.history.diff_releases`; a
dataset's first release lists its findings as new, since nothing came before it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from catalog.history import FindingChange, ReleaseDiff, diff_releases
from catalog.models import Release
from catalog.store import Catalog
from opendata.errors import CatalogError

#: Reads the privacy report of a release (``None`` when it has none or it cannot be read).
ReportReader = Callable[[Release], dict[str, Any] | None]


class PendingRelease(BaseModel):
    """One release waiting for a privacy officer."""

    dataset: str
    title: str
    organization: str
    number: int
    created_at: str = Field(description="when the run made the release (it waits since then)")
    rows: int
    run_id: str
    previous_release: int | None = Field(description="the published release it is compared with; null: the first")
    blocking_findings: int = Field(description="findings that would block (a waiting release has none)")
    findings: int = Field(description="findings of its privacy report (notes a reviewer should read)")
    new_findings: list[FindingChange] = Field(description="findings not raised on the previous release")
    policy_changed: bool = Field(description="the privacy policy differs from the previous release's")
    summary: list[str] = Field(description="what changed since the previous release, one sentence each")
    changes: ReleaseDiff | None = Field(default=None, description="the full diff (null for a first release)")
    review_url: str = Field(description="the privacy report page, where the officer decides")


def _findings(report: dict[str, Any] | None) -> list[dict[str, Any]]:
    found = (report or {}).get("findings") or []
    return [f for f in found if isinstance(f, dict)]


def pending_releases(catalog: Catalog, read_report: ReportReader) -> list[PendingRelease]:
    """Releases in state awaiting-approval, oldest first, each with its changes."""
    waiting = [r for r in catalog.all_releases(published_only=False) if r.state == "awaiting-approval"]
    waiting.sort(key=lambda r: (r.created_at, r.dataset, r.number))
    published: dict[str, list[Release]] = {}
    out = []
    for release in waiting:
        if release.dataset not in published:
            published[release.dataset] = catalog.releases(release.dataset)
        try:
            dataset = catalog.dataset(release.dataset, published_only=False)
            title, organization = dataset.title, dataset.organization
        except CatalogError:
            title, organization = release.dataset, ""
        report = read_report(release)
        earlier = [r for r in published[release.dataset] if r.number < release.number]
        previous = earlier[-1] if earlier else None
        findings = _findings(report)
        diff: ReleaseDiff | None = None
        if previous is not None:
            diff = diff_releases(previous, release, read_report(previous), report)
            new = diff.privacy.findings_added
            summary = diff.summary
        else:
            new = [FindingChange(type=str(f.get("type", "")), column=f.get("column"), message=str(f.get("message", "")),
                                 blocking=bool(f.get("blocking"))) for f in findings]
            summary = [f"First release: {release.rows:,} rows, {len(release.table_schema.get('fields', []))} columns."]
        out.append(PendingRelease(
            dataset=release.dataset, title=title, organization=organization, number=release.number,
            created_at=release.created_at, rows=release.rows, run_id=release.run_id,
            previous_release=previous.number if previous else None,
            blocking_findings=sum(bool(f.get("blocking")) for f in findings), findings=len(findings),
            new_findings=new, policy_changed=bool(diff and diff.privacy.policy_changed), summary=summary,
            changes=diff, review_url=f"/datasets/{release.dataset}/releases/{release.number}/privacy",
        ))
    return out
