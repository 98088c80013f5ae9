"""The privacy findings: what blocks a release (fail closed) and what a privacy officer should know.

Each function returns findings for one concern; messages name the column, what was found and what to do.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from anonymize.recognizers import PERSONAL, QUASI
from anonymize.report import ColumnReport, Detection, Finding, PrivacyReport

ACTIONS_HINT = "with drop, redact, mask, pseudonymize or generalize, or keep to publish it as is"


def describe(detection: Detection) -> str:
    if detection.source == "name":
        where = "its name"
    elif detection.source == "text":
        where = f"{detection.count} of {detection.sampled} sampled texts"
    else:
        where = f"{detection.count} of {detection.sampled} sampled values"
    example = f", e.g. {detection.examples[0]}" if detection.examples else ""
    return f"{detection.entity} ({where}{example})"


def column_findings(column: ColumnReport, job_file: str, quasi_identifiers: Sequence[str]) -> list[Finding]:
    if column.covered:
        return []
    personal = [d for d in column.detections if d.entity in PERSONAL]
    if personal:
        found = "; ".join(describe(d) for d in personal)
        located = [d.entity for d in personal if d.entity in QUASI]
        where = (
            f" A {' or '.join(sorted(set(located))).lower().replace('_', ' ')} places a person unless the place is "
            f"public: generalize it (prefix for postcodes, round or grid for coordinates) and list it in "
            f"privacy.quasi_identifiers, or keep it if it locates no one."
        ) if located and len(located) == len(personal) else ""
        return [Finding(
            type="uncovered-personal-data", column=column.name, blocking=True,
            message=f"column {column.name!r} holds personal data the policy does not cover: {found}. "
            f"Add it to privacy.columns in {job_file} {ACTIONS_HINT}.{where}",
        )]
    findings: list[Finding] = []
    quasi = [d for d in column.detections if d.entity in QUASI]
    if quasi and column.name not in quasi_identifiers:
        findings.append(Finding(
            type="uncovered-quasi-identifier", column=column.name, blocking=False,
            message=f"column {column.name!r} looks like a quasi-identifier: "
            f"{'; '.join(describe(d) for d in quasi)}. Consider generalize (prefix for postcodes, round for "
            f"coordinates) in privacy.columns in {job_file}, and listing it in privacy.quasi_identifiers.",
        ))
    if any(d.entity == "FREE_TEXT" for d in column.detections):
        findings.append(Finding(
            type="uncovered-free-text", column=column.name, blocking=False,
            message=f"column {column.name!r} is free text; no personal data was seen in the sample, but free "
            f"text can hold names and contact details. Consider redact in privacy.columns in {job_file}.",
        ))
    return findings


def missing_policy_columns(
    policy_columns: Sequence[str], present: Sequence[str], job_file: str
) -> list[Finding]:
    """A policy entry for a column the table lacks blocks: it is a typo that would publish the real column
    as it is ("internal_cod: drop" for internal_code), or a column that went away unnoticed."""
    findings: list[Finding] = []
    for name in policy_columns:
        if name in present:
            continue
        close = difflib.get_close_matches(name, present, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        findings.append(Finding(
            type="policy-column-missing", column=name, blocking=True,
            message=f"privacy.columns in {job_file} names {name!r}, which the source table does not have; "
            f"{hint}Fix its spelling or remove it (columns: {', '.join(present)}).",
        ))
    return findings


def unnamed_columns(policy_columns: Sequence[str], present: Sequence[str], job_file: str) -> list[Finding]:
    """``privacy.columns_required: all``: each source column needs a decision, keep included."""
    return [
        Finding(
            type="column-not-in-policy", column=name, blocking=True,
            message=f"column {name!r} is not named in privacy.columns, and privacy.columns_required is all in "
            f"{job_file}; add it {ACTIONS_HINT}.",
        )
        for name in present if name not in policy_columns
    ]


def against_previous(report: PrivacyReport, previous: PrivacyReport | None) -> list[Finding]:
    """What changed since the last release: the policy, and personal data seen for the first time."""
    if previous is None:
        return []
    findings: list[Finding] = []
    if previous.policy_hash != report.policy_hash:
        findings.append(Finding(
            type="policy-changed", blocking=False,
            message=f"the privacy policy changed since release run {previous.run_id}; review its columns.",
        ))
    before = {c.name: {d.entity for d in c.detections} for c in previous.columns}
    for column in report.columns:
        now = {d.entity for d in column.detections if d.entity in PERSONAL}
        new = sorted(now - before.get(column.name, set()))
        if new and column.name in before:
            findings.append(Finding(
                type="new-personal-data", column=column.name, blocking=False,
                message=f"column {column.name!r} now holds {', '.join(new)}, not seen in run "
                f"{previous.run_id}; check that its action ({column.action}) still fits.",
            ))
        gone = sorted((before.get(column.name, set()) & PERSONAL) - now)
        if gone and column.name in before:
            findings.append(Finding(
                type="personal-data-gone", column=column.name, blocking=False,
                message=f"column {column.name!r} no longer shows {', '.join(gone)} (seen in run "
                f"{previous.run_id}); its action ({column.action}) still applies.",
            ))
    return findings


def key_rotation(report: PrivacyReport, previous: PrivacyReport | None, previous_key_id: str | None) -> list[Finding]:
    """A pseudonym key that changed since the last release: recorded when announced, blocking when not."""
    if previous is None or previous.pseudonym_key_id is None or report.pseudonym_key_id is None:
        return []
    if previous.pseudonym_key_id == report.pseudonym_key_id:
        return []
    if previous_key_id == previous.pseudonym_key_id:
        return [Finding(
            type="pseudonym-key-rotated", blocking=False,
            message=f"the pseudonym key was rotated (key {previous.pseudonym_key_id} -> {report.pseudonym_key_id}):"
            f" pseudonyms in this release do not link to those of run {previous.run_id} and earlier.",
        )]
    return [Finding(
        type="pseudonym-key-changed", blocking=True,
        message=f"the pseudonym key is {report.pseudonym_key_id}, but run {previous.run_id} used key "
        f"{previous.pseudonym_key_id}: every pseudonym would change without notice. Restore the old "
        "OPENDATA_PSEUDONYM_KEY, or, to rotate on purpose, also set OPENDATA_PSEUDONYM_KEY_PREVIOUS "
        "to the old key for this run.",
    )]
