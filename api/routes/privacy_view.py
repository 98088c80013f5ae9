"""What the privacy report page shows, computed from the report: chart bars, the diff, the summary."""

from __future__ import annotations

from dataclasses import dataclass

from anonymize.recognizers import PERSONAL
from anonymize.report import PrivacyReport, RiskMeasure
from catalog.models import Release
from catalog.storage import ReleaseStorage
from catalog.store import Catalog

#: Equivalence-class sizes grouped for the chart: (label, smallest, largest).
SIZE_BUCKETS = [
    ("1", 1, 1), ("2", 2, 2), ("3-4", 3, 4), ("5-9", 5, 9), ("10-19", 10, 19), ("20-49", 20, 49),
    ("50-99", 50, 99), ("100-999", 100, 999), ("1000+", 1000, 10**12),
]


@dataclass(frozen=True)
class Bar:
    label: str
    before: int
    after: int
    before_pct: float
    after_pct: float
    below_k: bool


@dataclass(frozen=True)
class ColumnChange:
    name: str
    added: list[str]
    removed: list[str]
    action_before: str | None
    action_after: str | None


def records_by_bucket(measure: RiskMeasure | None) -> list[int]:
    counts = [0] * len(SIZE_BUCKETS)
    for size_text, classes in (measure.class_sizes if measure else {}).items():
        size = int(size_text)
        for i, (_, low, high) in enumerate(SIZE_BUCKETS):
            if low <= size <= high:
                counts[i] += size * classes
    return counts


def class_size_chart(report: PrivacyReport) -> list[Bar]:
    """Records by the size of their equivalence class, before and after anonymisation."""
    if report.risk is None:
        return []
    before = records_by_bucket(report.risk.before)
    after = records_by_bucket(report.risk.after)
    top = max([*before, *after, 1])
    k = report.risk.k
    return [
        Bar(label, b, a, round(100 * b / top, 1), round(100 * a / top, 1), low < k)
        for (label, low, _), b, a in zip(SIZE_BUCKETS, before, after, strict=True)
    ]


def previous_report(
    catalog: Catalog, storage: ReleaseStorage, release: Release
) -> tuple[int, PrivacyReport] | None:
    """The report of the release before this one (in any state), if it kept one."""
    earlier = [r for r in catalog.releases(release.dataset, published_only=False) if r.number < release.number]
    for candidate in reversed(earlier):
        if storage.exists(candidate, "privacy-report.json"):
            document = storage.read_bytes(candidate, "privacy-report.json")
            return candidate.number, PrivacyReport.model_validate_json(document)
    return None


def column_changes(report: PrivacyReport, previous: PrivacyReport | None) -> list[ColumnChange]:
    """Per column, personal-data entities that appeared or went, and action changes, since ``previous``."""
    if previous is None:
        return []
    before = {c.name: c for c in previous.columns}
    now = {c.name: c for c in report.columns}
    changes: list[ColumnChange] = []
    for name in [*now, *[n for n in before if n not in now]]:
        old, new = before.get(name), now.get(name)
        old_entities = {d.entity for d in old.detections} & PERSONAL if old else set()
        new_entities = {d.entity for d in new.detections} & PERSONAL if new else set()
        old_action, new_action = (old.action if old else None), (new.action if new else None)
        if old_entities != new_entities or old_action != new_action:
            changes.append(ColumnChange(name, sorted(new_entities - old_entities), sorted(old_entities - new_entities),
                                        old_action, new_action))
    return changes
