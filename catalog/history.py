"""What changed between two releases of a dataset: schema, row count, privacy findings.

``diff_releases`` compares two catalog ``Release`` records and their privacy reports (as the JSON documents
published with them; a report may be missing or partial, and the diff then says less rather than failing).
``release_history`` walks a dataset's releases and diffs each against the one before it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from catalog.models import Release

FieldChangeKind = Literal["added", "removed", "type-changed", "constraints-changed", "described"]

#: Reads the privacy report of a release (``None`` when it has none).
PrivacyReader = Callable[[Release], dict[str, Any] | None]


class FieldChange(BaseModel):
    name: str
    change: FieldChangeKind
    before: Any = None
    after: Any = None


class SchemaDiff(BaseModel):
    changes: list[FieldChange] = Field(default_factory=list)
    primary_key_before: list[str] = Field(default_factory=list)
    primary_key_after: list[str] = Field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes) or self.primary_key_before != self.primary_key_after


class RowsDiff(BaseModel):
    before: int
    after: int
    delta: int
    percent: float | None = Field(description="change in percent of the earlier count; null when it was 0")


class FindingChange(BaseModel):
    type: str
    column: str | None = None
    message: str = ""
    blocking: bool = False


class ColumnPolicyChange(BaseModel):
    column: str
    action_before: str | None = Field(description="null: the column was not in the earlier release")
    action_after: str | None = Field(description="null: the column is not in the later release")


class DetectionChange(BaseModel):
    column: str
    appeared: list[str] = Field(default_factory=list, description="entities found now, not before")
    disappeared: list[str] = Field(default_factory=list, description="entities found before, not now")


class PrivacyDiff(BaseModel):
    compared: bool = Field(description="false when either release has no readable privacy report")
    policy_changed: bool
    findings_added: list[FindingChange] = Field(default_factory=list)
    findings_resolved: list[FindingChange] = Field(default_factory=list)
    actions: list[ColumnPolicyChange] = Field(default_factory=list)
    detections: list[DetectionChange] = Field(default_factory=list)
    suppressed_before: int | None = None
    suppressed_after: int | None = None


class ReleaseDiff(BaseModel):
    dataset: str
    from_release: int
    to_release: int
    from_published_at: str | None
    to_published_at: str | None
    schema_: SchemaDiff = Field(alias="schema", serialization_alias="schema")
    rows: RowsDiff
    privacy: PrivacyDiff
    summary: list[str] = Field(description="one sentence per change, for people")

    model_config = {"populate_by_name": True}


def _fields(release: Release) -> dict[str, dict[str, Any]]:
    return {str(f.get("name")): f for f in release.table_schema.get("fields", [])}


def diff_schema(before: Release, after: Release) -> SchemaDiff:
    old, new = _fields(before), _fields(after)
    changes: list[FieldChange] = []
    for name, field in new.items():
        if name not in old:
            changes.append(FieldChange(name=name, change="added", after=field.get("type", "string")))
            continue
        was = old[name]
        if was.get("type", "string") != field.get("type", "string"):
            changes.append(FieldChange(
                name=name, change="type-changed", before=was.get("type", "string"), after=field.get("type", "string")
            ))
        if (was.get("constraints") or {}) != (field.get("constraints") or {}):
            changes.append(FieldChange(
                name=name, change="constraints-changed", before=was.get("constraints"), after=field.get("constraints")
            ))
        if (was.get("title"), was.get("description")) != (field.get("title"), field.get("description")):
            changes.append(FieldChange(
                name=name, change="described", before=was.get("description"), after=field.get("description")
            ))
    changes += [FieldChange(name=n, change="removed", before=f.get("type", "string")) for n, f in old.items()
                if n not in new]
    return SchemaDiff(
        changes=changes,
        primary_key_before=_key(before.table_schema.get("primaryKey")),
        primary_key_after=_key(after.table_schema.get("primaryKey")),
    )


def _key(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def diff_rows(before: Release, after: Release) -> RowsDiff:
    delta = after.rows - before.rows
    percent = round(100.0 * delta / before.rows, 2) if before.rows else None
    return RowsDiff(before=before.rows, after=after.rows, delta=delta, percent=percent)


def _findings(report: dict[str, Any]) -> dict[tuple[str, str | None], FindingChange]:
    found: dict[tuple[str, str | None], FindingChange] = {}
    for item in report.get("findings") or []:
        if isinstance(item, dict) and "type" in item:
            change = FindingChange(
                type=str(item["type"]), column=item.get("column"), message=str(item.get("message", "")),
                blocking=bool(item.get("blocking", False)),
            )
            found[(change.type, change.column)] = change
    return found


def _columns(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(c["name"]): c for c in report.get("columns") or [] if isinstance(c, dict) and "name" in c}


def _entities(column: dict[str, Any] | None) -> set[str]:
    if not column:
        return set()
    return {str(d.get("entity")) for d in column.get("detections") or [] if isinstance(d, dict)}


def _suppressed(report: dict[str, Any]) -> int | None:
    risk = report.get("risk")
    return int(risk["suppressed_records"]) if isinstance(risk, dict) and "suppressed_records" in risk else None


def diff_privacy(
    before: Release, after: Release, report_before: dict[str, Any] | None, report_after: dict[str, Any] | None
) -> PrivacyDiff:
    policy_changed = before.policy_hash != after.policy_hash
    if report_before is None or report_after is None:
        return PrivacyDiff(compared=False, policy_changed=policy_changed)
    old_findings, new_findings = _findings(report_before), _findings(report_after)
    old_columns, new_columns = _columns(report_before), _columns(report_after)
    actions = [
        ColumnPolicyChange(
            column=name,
            action_before=old_columns[name].get("action") if name in old_columns else None,
            action_after=new_columns[name].get("action") if name in new_columns else None,
        )
        for name in list(new_columns) + [n for n in old_columns if n not in new_columns]
        if (old_columns.get(name) or {}).get("action") != (new_columns.get(name) or {}).get("action")
    ]
    detections = []
    for name in new_columns:
        if name not in old_columns:
            continue
        was, now = _entities(old_columns[name]), _entities(new_columns[name])
        if was != now:
            detections.append(DetectionChange(column=name, appeared=sorted(now - was), disappeared=sorted(was - now)))
    return PrivacyDiff(
        compared=True,
        policy_changed=policy_changed,
        findings_added=[f for key, f in new_findings.items() if key not in old_findings],
        findings_resolved=[f for key, f in old_findings.items() if key not in new_findings],
        actions=actions,
        detections=detections,
        suppressed_before=_suppressed(report_before),
        suppressed_after=_suppressed(report_after),
    )


def summarize(schema: SchemaDiff, rows: RowsDiff, privacy: PrivacyDiff) -> list[str]:
    lines: list[str] = []
    if rows.delta:
        share = f" ({rows.percent:+.1f}%)" if rows.percent is not None else ""
        lines.append(f"Rows: {rows.before:,} → {rows.after:,}{share}.")
    else:
        lines.append(f"Rows: unchanged at {rows.after:,}.")
    for change in schema.changes:
        if change.change == "added":
            lines.append(f"Column {change.name} added ({change.after}).")
        elif change.change == "removed":
            lines.append(f"Column {change.name} removed.")
        elif change.change == "type-changed":
            lines.append(f"Column {change.name} changed type: {change.before} → {change.after}.")
        elif change.change == "constraints-changed":
            lines.append(f"Column {change.name} has new constraints.")
        else:
            lines.append(f"Column {change.name} has a new title or description.")
    if schema.primary_key_before != schema.primary_key_after:
        lines.append(f"Primary key: {', '.join(schema.primary_key_before) or 'none'} → "
                     f"{', '.join(schema.primary_key_after) or 'none'}.")
    if not schema.changed:
        lines.append("Schema: unchanged.")
    if privacy.policy_changed:
        lines.append("The privacy policy changed.")
    for action in privacy.actions:
        lines.append(f"Column {action.column}: privacy action {action.action_before or '(new column)'} → "
                     f"{action.action_after or '(column gone)'}.")
    for finding in privacy.findings_added:
        lines.append(f"New privacy finding {finding.type}" + (f" on {finding.column}." if finding.column else "."))
    for finding in privacy.findings_resolved:
        lines.append(f"Privacy finding {finding.type}" + (f" on {finding.column}" if finding.column else "")
                     + " no longer raised.")
    for detection in privacy.detections:
        if detection.appeared:
            lines.append(f"Column {detection.column}: now detected {', '.join(detection.appeared)}.")
    if privacy.compared and not (privacy.policy_changed or privacy.actions or privacy.findings_added
                                 or privacy.findings_resolved or privacy.detections):
        lines.append("Privacy: no change in policy or findings.")
    return lines


def diff_releases(
    before: Release,
    after: Release,
    report_before: dict[str, Any] | None = None,
    report_after: dict[str, Any] | None = None,
) -> ReleaseDiff:
    """What changed from ``before`` to ``after`` (two releases of one dataset)."""
    if before.dataset != after.dataset:
        raise ValueError(f"cannot diff releases of two datasets ({before.dataset}, {after.dataset})")
    schema, rows = diff_schema(before, after), diff_rows(before, after)
    privacy = diff_privacy(before, after, report_before, report_after)
    return ReleaseDiff(
        dataset=after.dataset, from_release=before.number, to_release=after.number,
        from_published_at=before.published_at, to_published_at=after.published_at,
        schema=schema, rows=rows, privacy=privacy, summary=summarize(schema, rows, privacy),
    )


def release_history(releases: Sequence[Release], read_privacy: PrivacyReader) -> list[ReleaseDiff]:
    """Each release diffed against the one before it, newest first."""
    ordered = sorted(releases, key=lambda r: r.number)
    reports = {r.number: read_privacy(r) for r in ordered}
    diffs = [
        diff_releases(a, b, reports[a.number], reports[b.number]) for a, b in zip(ordered, ordered[1:], strict=False)
    ]
    return list(reversed(diffs))
