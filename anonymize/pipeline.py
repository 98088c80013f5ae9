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
from anonymize.keys import key_id, previous_key_id
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

    changed_by_action: dict[str, int] = {}
    for column in columns:
        changed_by_action[column.action] = changed_by_action.get(column.action, 0) + column.changed
    report = PrivacyReport(
        dataset=job.name, run_id=run_id, policy_hash=policy_hash(policy),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        rows_in=table.num_rows, rows_out=out.num_rows, columns=columns, findings=findings, risk=risk,
        pseudonym_key_id=key_id(context.used_key) if context.used_key is not None else None,
        changed_by_action=changed_by_action,
        previous_run_id=previous.run_id if previous is not None else None,
    )
    extra = find.against_previous(report, previous)
    if context.used_key is not None:
        extra += find.key_rotation(report, previous, previous_key_id(settings))
    if extra:
        report = report.model_copy(update={"findings": [*findings, *extra]})
    return AnonymizedTable(dataset=job.name, run_id=run_id, table=out), report


def _risk(
    source: pa.Table, out: pa.Table, policy: PrivacyPolicy, job_file: str
) -> tuple[RiskReport | None, pa.Table, list[Finding]]:
    qis = list(policy.quasi_identifiers)
    if not qis and policy.k <= 1 and policy.l <= 1:
        return None, out, []
    findings: list[Finding] = []
    if not qis:
        findings.append(Finding(
            type="k-anonymity-not-met", blocking=True,
            message=f"privacy.k is {policy.k} (l {policy.l}) but privacy.quasi_identifiers is empty in {job_file}: "
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
    if policy.l > 1 and not policy.sensitive:
        findings.append(Finding(
            type="sensitive-column-missing", blocking=True,
            message=f"privacy.l is {policy.l} but privacy.sensitive is empty in {job_file}: name the sensitive "
            "columns (diagnosis, complaint type, ...) whose values each class must vary in.",
        ))
    for name in policy.sensitive:
        if name not in out.column_names:
            findings.append(Finding(
                type="sensitive-column-missing", column=name, blocking=True,
                message=f"privacy.sensitive in {job_file} names {name!r}, which the "
                f"{'published' if name in source.column_names else 'source'} table does not have; "
                "l-diversity cannot be measured on it.",
            ))
    present = [q for q in qis if q in out.column_names]
    sensitive = [s for s in policy.sensitive if s in out.column_names and s not in present]
    k, l = policy.k, policy.l  # noqa: E741
    before = measure(source, [q for q in qis if q in source.column_names],
                     [s for s in sensitive if s in source.column_names], k, l)
    generalised = measure(out, present, sensitive, k, l)
    if policy.on_k_violation == "block":
        suppressed_out, suppressed = out, 0
        if generalised.records_below_k:
            findings.append(Finding(
                type="k-anonymity-not-met", blocking=True,
                message=f"{generalised.records_below_k} records are in classes of fewer than k={k} records over "
                f"{', '.join(present)}, and privacy.on_k_violation is block; generalise these columns further "
                f"or set on_k_violation: suppress in {job_file}.",
            ))
        if generalised.records_below_l:
            findings.append(Finding(
                type="l-diversity-not-met", blocking=True,
                message=f"{generalised.records_below_l} records are in classes with fewer than l={l} distinct "
                f"values of {', '.join(sensitive)}, and privacy.on_k_violation is block; generalise the "
                f"quasi-identifiers further in {job_file}.",
            ))
    else:
        suppressed_out, suppressed = suppress_small_classes(out, present, k, sensitive, l)
    if source.num_rows and suppressed_out.num_rows == 0 and present:
        findings.append(Finding(
            type="k-anonymity-not-met", blocking=True,
            message=f"every record is in a class of fewer than k={k} records (or l={l} sensitive values) over "
            f"{', '.join(present)}; generalise these columns further (coarser bins, shorter prefixes) "
            f"in {job_file}.",
        ))
    risk = RiskReport(
        quasi_identifiers=qis, k=k, before=before, after=measure(suppressed_out, present, sensitive, k, l),
        suppressed_records=suppressed, l=l, sensitive=list(policy.sensitive), on_k_violation=policy.on_k_violation,
    )
    return risk, suppressed_out, findings


def _text_column(column: pa.ChunkedArray) -> pa.Array:
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return array if array.type == pa.string() else array.cast(pa.string())
