"""``anonymize_table``: detect, apply the policy, measure residual risk, write the privacy report.

Data problems never raise: they are findings in the report, and a blocking one (``report.blocked``)
stops publication. Only a run that cannot go on raises (a missing pseudonym key in production, a rule
parameter that cannot work, a spaCy model that is not installed).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from anonymize import findings as find
from anonymize.detect_columns import detect_column, sample_rows
from anonymize.operators import OperatorContext, operator
from anonymize.report import AnonymizedTable, ColumnReport, Finding, PrivacyReport, RiskReport
from anonymize.risk import measure, suppress_small_classes
from anonymize.text_engine import TextEngine, text_engine
from opendata.errors import JobFileError
from opendata.settings import Settings
from publishers.job import Job, PrivacyPolicy


def policy_hash(policy: PrivacyPolicy) -> str:
    canonical = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def anonymize_table(
    table: pa.Table, job: Job, settings: Settings, run_id: str, previous: PrivacyReport | None = None
) -> tuple[AnonymizedTable, PrivacyReport]:
    policy = job.privacy
    job_file = str(job.path) if job.path != Path(".") else f"the job file of {job.name}"
    sample = sample_rows(table, settings.detection_sample_rows)
    context = OperatorContext(settings)

    def engine() -> TextEngine:
        return text_engine(settings.spacy_model)

    columns: list[ColumnReport] = []
    findings: list[Finding] = []
    kept: dict[str, pa.Array] = {}
    for name in table.column_names:
        rule = policy.columns.get(name)
        action = rule.action if rule is not None else "keep"
        params = dict(rule.params) if rule is not None else {}
        values = _text_column(table.column(name))
        try:
            applied = operator(action)(values, params, context)
        except ValueError as exc:
            raise JobFileError(job_file, [f"privacy.columns.{name}: {exc}"]) from None
        column = ColumnReport(
            name=name, action=action, params=params, covered=rule is not None,
            detections=detect_column(name, sample.column(name), engine), changed=applied.changed,
            unparseable=applied.unparseable,
        )
        columns.append(column)
        findings += find.column_findings(column, job_file, policy.quasi_identifiers)
        if applied.values is not None:
            kept[name] = applied.values
    findings += find.missing_policy_columns(list(policy.columns), table.column_names, job_file)

    out = pa.Table.from_arrays(list(kept.values()), names=list(kept)) if kept else table.select([])
    risk, out, risk_findings = _risk(table, out, policy, job_file)
    findings += risk_findings

    report = PrivacyReport(
        dataset=job.name, run_id=run_id, policy_hash=policy_hash(policy),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        rows_in=table.num_rows, rows_out=out.num_rows, columns=columns, findings=findings, risk=risk,
    )
    extra = find.against_previous(report, previous)
    if extra:
        report = report.model_copy(update={"findings": [*findings, *extra]})
    return AnonymizedTable(dataset=job.name, run_id=run_id, table=out), report


def _risk(
    source: pa.Table, out: pa.Table, policy: PrivacyPolicy, job_file: str
) -> tuple[RiskReport | None, pa.Table, list[Finding]]:
    qis = list(policy.quasi_identifiers)
    if not qis and policy.k <= 1:
        return None, out, []
    findings: list[Finding] = []
    if not qis:
        findings.append(Finding(
            type="k-anonymity-not-met", blocking=True,
            message=f"privacy.k is {policy.k} but privacy.quasi_identifiers is empty in {job_file}: "
            "name the columns that could single a person out (age band, area, date, ...).",
        ))
    for name in qis:
        if name not in source.column_names:
            findings.append(Finding(
                type="quasi-identifier-missing", column=name, blocking=True,
                message=f"privacy.quasi_identifiers in {job_file} names {name!r}, which the source table "
                f"does not have (columns: {', '.join(source.column_names)}); the risk cannot be measured.",
            ))
        elif name not in out.column_names:
            findings.append(Finding(
                type="quasi-identifier-dropped", column=name, blocking=False,
                message=f"quasi-identifier {name!r} is dropped by the policy, so it adds no risk; "
                f"remove it from privacy.quasi_identifiers in {job_file}.",
            ))
    present = [q for q in qis if q in out.column_names]
    before = measure(source, [q for q in qis if q in source.column_names])
    suppressed_out, suppressed = suppress_small_classes(out, present, policy.k)
    if source.num_rows and suppressed_out.num_rows == 0 and present:
        findings.append(Finding(
            type="k-anonymity-not-met", blocking=True,
            message=f"every record is in a class of fewer than k={policy.k} records over "
            f"{', '.join(present)}; generalise these columns further (coarser bins, shorter prefixes) "
            f"in {job_file}.",
        ))
    risk = RiskReport(
        quasi_identifiers=qis, k=policy.k, before=before, after=measure(suppressed_out, present),
        suppressed_records=suppressed,
    )
    return risk, suppressed_out, findings


def _text_column(column: pa.ChunkedArray) -> pa.Array:
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return array if array.type == pa.string() else array.cast(pa.string())
