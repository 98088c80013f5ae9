"""``anonymize_table``: detect, apply the policy, measure residual risk, write the privacy report.

Data problems never raise: they are findings in the report, and a blocking one (``report.blocked``)
stops publication. Only a run that cannot go on raises (a missing pseudonym key in production, a rule
parameter that cannot work, a spaCy model that is not installed).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from anonymize import findings as find
from anonymize.detect_columns import detect_table, mask_example, sample_rows
from anonymize.keys import key_id, previous_key_id
from anonymize.operators import Applied, OperatorContext, operator
from anonymize.report import (
    AnonymizedTable,
    ColumnReport,
    Finding,
    PrivacyReport,
    Replacement,
    RiskMeasure,
    RiskReport,
)
from anonymize.risk import measure, suppress_small_classes
from anonymize.text_engine import TextEngine, text_engine
from opendata.errors import JobFileError
from opendata.settings import Settings
from publishers.job import Job, PrivacyPolicy


def policy_hash(policy: PrivacyPolicy) -> str:
    canonical = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def job_file_label(job: Job) -> str:
    return str(job.path) if job.path != Path(".") else f"the job file of {job.name}"


def anonymize_table(
    table: pa.Table, job: Job, settings: Settings, run_id: str, previous: PrivacyReport | None = None
) -> tuple[AnonymizedTable, PrivacyReport]:
    policy = job.privacy
    job_file = job_file_label(job)
    context = OperatorContext(settings)
    tallies: dict[str, ColumnTally] = {}
    kept: dict[str, pa.Array] = {}
    for name in table.column_names:
        applied = apply_rule(policy, name, _text_column(table.column(name)), context, job_file)
        tallies[name] = ColumnTally()
        tallies[name].add(applied)
        if applied.values is not None:
            kept[name] = applied.values
    sample = sample_rows(table, settings.detection_sample_rows)
    columns, findings = describe_columns(table.column_names, tallies, sample, policy, job_file, settings)

    out = pa.Table.from_arrays(list(kept.values()), names=list(kept)) if kept else table.select([])
    risk, out, risk_findings = _risk(table, out, policy, job_file)
    report = privacy_report(job, settings, run_id, previous, context, columns, [*findings, *risk_findings], risk,
                            rows_in=table.num_rows, rows_out=out.num_rows)
    return AnonymizedTable(dataset=job.name, run_id=run_id, table=out), report


#: Before/after examples kept per column in the report.
EXAMPLES = 3


@dataclass
class ColumnTally:
    """What a column's action did, summed over the chunks it ran on."""

    changed: int = 0
    unparseable: int = 0
    replaced: dict[str, int] = field(default_factory=dict)
    examples: list[Replacement] = field(default_factory=list)

    def add(self, applied: Applied) -> None:
        self.changed += applied.changed
        self.unparseable += applied.unparseable
        for entity, count in applied.replaced.items():
            self.replaced[entity] = self.replaced.get(entity, 0) + count
        known = {e.before for e in self.examples}
        for example in applied.examples:
            if len(self.examples) >= EXAMPLES:
                break
            if example.before not in known:
                self.examples.append(example)
                known.add(example.before)


def apply_rule(
    policy: PrivacyPolicy, name: str, values: pa.Array, context: OperatorContext, job_file: str
) -> Applied:
    """The policy's action for column ``name`` on ``values`` (``keep`` when the policy does not name it)."""
    rule = policy.columns.get(name)
    action = rule.action if rule is not None else "keep"
    params = dict(rule.params) if rule is not None else {}
    try:
        applied = operator(action)(values, params, context)
    except ValueError as exc:
        raise JobFileError(job_file, [f"privacy.columns.{name}: {exc}"]) from None
    return with_examples(action, values, applied)


def with_examples(action: str, values: pa.Array, applied: Applied) -> Applied:
    """``applied`` with before/after examples when its operator kept none (all but redact)."""
    if action == "keep" or applied.examples:
        return applied
    return replace(applied, examples=value_examples(values, applied.values))


def value_examples(before: pa.Array, after: pa.Array | None, wanted: int = EXAMPLES) -> list[Replacement]:
    """The first ``wanted`` distinct values the action changed, in row order: the source value masked
    (``mask_example``; one-letter runs hidden whole), the published one as it is. Row order and distinctness
    make the chunked run pick the examples the in-memory run picks (``ColumnTally.add`` skips repeats; both
    compare masked values)."""
    text = before if before.type == pa.string() else before.cast(pa.string())
    changed = pc.and_(pc.is_valid(text), pc.not_equal(pc.utf8_trim_whitespace(text), ""))
    if after is not None:
        published = after if after.type == pa.string() else after.cast(pa.string())
        changed = pc.and_(changed, pc.fill_null(pc.not_equal(text, published), True))
    positions = pc.indices_nonzero(pc.fill_null(changed, False))
    found: list[Replacement] = []
    seen: set[str] = set()
    for start in range(0, len(positions), 256):
        batch = positions.slice(start, 256)
        olds = text.take(batch).to_pylist()
        news = after.take(batch).to_pylist() if after is not None else [None] * len(olds)
        for old, new in zip(olds, news, strict=True):
            masked = mask_example(old)
            if masked == old:
                masked = "*" * len(masked)
            if masked in seen:  # distinct as shown: two values masked alike are one example
                continue
            seen.add(masked)
            found.append(Replacement(before=masked[:200], after="(not published)" if new is None else str(new)[:200]))
            if len(found) == wanted:
                return found
    return found


def describe_columns(
    names: list[str], tallies: dict[str, ColumnTally], sample: pa.Table, policy: PrivacyPolicy, job_file: str,
    settings: Settings,
) -> tuple[list[ColumnReport], list[Finding]]:
    """Each column's report (its action, what it changed, what the sample shows) and the findings on it."""

    def engine() -> TextEngine:
        return text_engine(settings.spacy_model)

    columns: list[ColumnReport] = []
    findings: list[Finding] = []
    detected = detect_table(sample, engine)
    for name in names:
        rule = policy.columns.get(name)
        detections = detected[name]
        column = ColumnReport(
            name=name, action=rule.action if rule is not None else "keep",
            params=dict(rule.params) if rule is not None else {}, covered=rule is not None,
            detections=detections, changed=tallies[name].changed, unparseable=tallies[name].unparseable,
            replaced=tallies[name].replaced, examples=tallies[name].examples,
        )
        columns.append(column)
        findings += find.column_findings(column, job_file, policy.quasi_identifiers)
    findings += find.missing_policy_columns(list(policy.columns), names, job_file)
    if policy.columns_required == "all":
        findings += find.unnamed_columns(list(policy.columns), names, job_file)
    return columns, findings


def privacy_report(
    job: Job, settings: Settings, run_id: str, previous: PrivacyReport | None, context: OperatorContext,
    columns: list[ColumnReport], findings: list[Finding], risk: RiskReport | None, *, rows_in: int, rows_out: int,
) -> PrivacyReport:
    changed_by_action: dict[str, int] = {}
    for column in columns:
        changed_by_action[column.action] = changed_by_action.get(column.action, 0) + column.changed
    report = PrivacyReport(
        dataset=job.name, run_id=run_id, policy_hash=policy_hash(job.privacy),
        policy=job.privacy.model_dump(mode="json", exclude_unset=True),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        rows_in=rows_in, rows_out=rows_out, columns=columns, findings=findings, risk=risk,
        pseudonym_key_id=key_id(context.used_key) if context.used_key is not None else None,
        changed_by_action=changed_by_action,
        previous_run_id=previous.run_id if previous is not None else None,
    )
    extra = find.against_previous(report, previous)
    if context.used_key is not None:
        extra += find.key_rotation(report, previous, previous_key_id(settings))
    if extra:
        report = report.model_copy(update={"findings": [*findings, *extra]})
    return report


@dataclass(frozen=True)
class RiskPlan:
    """Which columns residual risk is measured over, before and after the policy."""

    quasi_identifiers: list[str]
    present: list[str]  # quasi-identifiers the policy publishes
    sensitive: list[str]  # sensitive columns published, not quasi-identifiers themselves
    source_quasi_identifiers: list[str]
    source_sensitive: list[str]
    k: int
    l: int  # noqa: E741


def plan_risk(
    policy: PrivacyPolicy, source_columns: list[str], out_columns: list[str], job_file: str
) -> tuple[RiskPlan | None, list[Finding]]:
    """The columns to measure, and the findings about the policy's risk settings (before any measuring)."""
    qis = list(policy.quasi_identifiers)
    if not qis and policy.k <= 1 and policy.l <= 1:
        return None, []
    findings: list[Finding] = []
    if not qis:
        findings.append(Finding(
            type="k-anonymity-not-met", blocking=True,
            message=f"privacy.k is {policy.k} (l {policy.l}) but privacy.quasi_identifiers is empty in {job_file}: "
            "name the columns that could single a person out (age band, area, date, ...).",
        ))
    for name in qis:
        if name not in source_columns:
            findings.append(Finding(
                type="quasi-identifier-missing", column=name, blocking=True,
                message=f"privacy.quasi_identifiers in {job_file} names {name!r}, which the source table "
                f"does not have (columns: {', '.join(source_columns)}); the risk cannot be measured.",
            ))
        elif name not in out_columns:
            findings.append(Finding(
                type="quasi-identifier-dropped", column=name, blocking=False,
                message=f"quasi-identifier {name!r} is dropped by the policy, so it adds no risk; "
                f"remove it from privacy.quasi_identifiers in {job_file}.",
            ))
    if policy.l > 1 and not policy.sensitive:
        findings.append(Finding(
            type="sensitive-column-missing", blocking=True,
            message=f"privacy.l is {policy.l} but privacy.sensitive is empty in {job_file}: name the sensitive "
            "columns (diagnosis, complaint type, ...) whose values each class must vary in.",
        ))
    for name in policy.sensitive:
        if name not in out_columns:
            findings.append(Finding(
                type="sensitive-column-missing", column=name, blocking=True,
                message=f"privacy.sensitive in {job_file} names {name!r}, which the "
                f"{'published' if name in source_columns else 'source'} table does not have; "
                "l-diversity cannot be measured on it.",
            ))
    present = [q for q in qis if q in out_columns]
    sensitive = [s for s in policy.sensitive if s in out_columns and s not in present]
    plan = RiskPlan(
        quasi_identifiers=qis, present=present, sensitive=sensitive,
        source_quasi_identifiers=[q for q in qis if q in source_columns],
        source_sensitive=[s for s in sensitive if s in source_columns], k=policy.k, l=policy.l,
    )
    return plan, findings


def block_findings(plan: RiskPlan, generalised: RiskMeasure, job_file: str) -> list[Finding]:
    """``on_k_violation: block``: records below k or l block the release instead of being suppressed."""
    findings: list[Finding] = []
    if generalised.records_below_k:
        findings.append(Finding(
            type="k-anonymity-not-met", blocking=True,
            message=f"{generalised.records_below_k} records are in classes of fewer than k={plan.k} records over "
            f"{', '.join(plan.present)}, and privacy.on_k_violation is block; generalise these columns further "
            f"or set on_k_violation: suppress in {job_file}.",
        ))
    if generalised.records_below_l:
        findings.append(Finding(
            type="l-diversity-not-met", blocking=True,
            message=f"{generalised.records_below_l} records are in classes with fewer than l={plan.l} distinct "
            f"values of {', '.join(plan.sensitive)}, and privacy.on_k_violation is block; generalise the "
            f"quasi-identifiers further in {job_file}.",
        ))
    return findings


def risk_report(
    plan: RiskPlan, policy: PrivacyPolicy, before: RiskMeasure, after: RiskMeasure, suppressed: int, *,
    rows_in: int, rows_out: int, job_file: str, generalised: RiskMeasure | None = None,
) -> tuple[RiskReport, list[Finding]]:
    findings: list[Finding] = []
    if rows_in and rows_out == 0 and plan.present:
        findings.append(Finding(
            type="k-anonymity-not-met", blocking=True,
            message=f"every record is in a class of fewer than k={plan.k} records (or l={plan.l} sensitive values) "
            f"over {', '.join(plan.present)}; generalise these columns further (coarser bins, shorter prefixes) "
            f"in {job_file}.",
        ))
    risk = RiskReport(
        quasi_identifiers=plan.quasi_identifiers, k=plan.k, before=before, after=after, generalised=generalised,
        suppressed_records=suppressed, l=plan.l, sensitive=list(policy.sensitive),
        on_k_violation=policy.on_k_violation,
    )
    return risk, findings


def _risk(
    source: pa.Table, out: pa.Table, policy: PrivacyPolicy, job_file: str
) -> tuple[RiskReport | None, pa.Table, list[Finding]]:
    plan, findings = plan_risk(policy, source.column_names, out.column_names, job_file)
    if plan is None:
        return None, out, []
    before = measure(source, plan.source_quasi_identifiers, plan.source_sensitive, plan.k, plan.l)
    generalised = measure(out, plan.present, plan.sensitive, plan.k, plan.l)
    if policy.on_k_violation == "block":
        suppressed_out, suppressed = out, 0
        findings += block_findings(plan, generalised, job_file)
    else:
        suppressed_out, suppressed = suppress_small_classes(out, plan.present, plan.k, plan.sensitive, plan.l)
    after = measure(suppressed_out, plan.present, plan.sensitive, plan.k, plan.l)
    risk, final = risk_report(plan, policy, before, after, suppressed, rows_in=source.num_rows,
                              rows_out=suppressed_out.num_rows, job_file=job_file, generalised=generalised)
    return risk, suppressed_out, [*findings, *final]


def _text_column(column: pa.ChunkedArray) -> pa.Array:
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return array if array.type == pa.string() else array.cast(pa.string())
