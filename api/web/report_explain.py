"""What the privacy report page says in plain words: the measures explained with this release's own
numbers, the records below k reconciled stage by stage, and the policy as the steward wrote it."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from anonymize.report import PrivacyReport, Replacement

#: A short explanation of each word the report uses, for a reader who has not met it.
GLOSSARY = [
    ("Quasi-identifier", "A column that does not name anyone but, combined with others (birth year, ZIP code, "
     "sex), can point at one person: the policy lists them under quasi_identifiers."),
    ("Equivalence class", "The records that share the same values in every quasi-identifier. Someone who knows "
     "a person's quasi-identifiers can narrow them down to that class, not further."),
    ("k", "The smallest class size the policy accepts: every published record shares its quasi-identifiers "
     "with at least k − 1 others."),
    ("l", "The fewest distinct values of each sensitive column every class must hold, so that belonging to a "
     "class does not reveal the sensitive value."),
    ("Confidence", "How sure the detector is that a column holds that kind of personal data, from 0 to 1: the "
     "share of sampled values that matched, weighted by how reliable the pattern is."),
    ("Not in the policy", "The column is published as it is (action keep) because the policy does not name it; "
     "where personal data was detected in such a column, the release is blocked."),
    ("Suppressed", "Records removed from the published table because their class was smaller than k (or held "
     "fewer than l sensitive values)."),
]


@dataclass(frozen=True)
class Explained:
    k_anonymity: list[str]
    l_diversity: list[str]
    reconcile: list[tuple[str, int | None]]
    reconcile_sentence: str
    example: tuple[str, Replacement] | None


def _qi(report: PrivacyReport) -> str:
    names = report.risk.quasi_identifiers if report.risk else []
    return ", ".join(names) if names else "(none)"


def first_generalised_example(report: PrivacyReport) -> tuple[str, Replacement] | None:
    """A before/after value of a quasi-identifier the policy generalised (the worked example), if any."""
    quasi = set(report.risk.quasi_identifiers) if report.risk else set()
    ordered = sorted(report.columns, key=lambda c: (c.name not in quasi, c.action != "generalize"))
    for column in ordered:
        for example in column.examples:
            if example.before != example.after:
                return column.name, example
    return None


def explain(report: PrivacyReport) -> Explained | None:
    risk = report.risk
    if risk is None:
        return None
    before, generalised, after = risk.before, risk.generalised, risk.after
    qi = _qi(report)
    k_text = [
        "k-anonymity protects against singling a person out: whoever knows someone's quasi-identifiers "
        f"({qi}) finds at least k = {risk.k} published records that match, so cannot tell which one is theirs.",
        "It does not hide what all records of a class have in common; l-diversity covers that.",
    ]
    if before is not None and after is not None:
        example = first_generalised_example(report)
        shown = (f" For example, {example[0]} '{example[1].before}' is published as '{example[1].after}'."
                 if example else "")
        k_text.append(
            f"In this release, {before.unique_records:,} of {before.records:,} source records were alone in their "
            f"class (unique on {qi}), and {before.records_below_k:,} were in classes smaller than {risk.k}.{shown} "
            f"After the policy the smallest class holds {after.smallest_class:,} records."
        )
    l_text = [
        "l-diversity protects against learning a sensitive value without singling anyone out: if every record "
        "of a class has the same value, knowing a person is in the class reveals it.",
        f"With l = {risk.l}, every class must hold at least {risk.l} distinct values of "
        f"{', '.join(risk.sensitive) or 'the sensitive columns'}.",
    ]
    if risk.sensitive and after is not None:
        l_text.append(
            f"In this release the class with the fewest distinct sensitive values has {after.l_diversity}; "
            f"{(before.records_below_l if before else 0):,} source records were in classes below l."
        )
    elif not risk.sensitive:
        l_text = [l_text[0], "The policy names no sensitive column, so l-diversity was not measured."]
    below_generalised = generalised.records_below_k if generalised is not None else None
    rows = [
        ("records in the source", report.rows_in),
        (f"below k = {risk.k} before anonymisation (source values)", before.records_below_k if before else None),
        ("below k after the policy's actions (generalisation), before suppression", below_generalised),
        ("suppressed (removed from the release)", risk.suppressed_records),
        ("below k in the published table", after.records_below_k if after else None),
        ("records published", report.rows_out),
    ]
    if below_generalised is None:
        sentence = (f"Generalisation left some records in classes below k; {risk.suppressed_records:,} were "
                    "suppressed (this report predates the count after generalisation).")
    elif risk.on_k_violation == "block":
        sentence = (f"{below_generalised:,} records were still below k after generalisation; the policy blocks "
                    "instead of suppressing, so none were removed.")
    else:
        sentence = (f"Of {(before.records_below_k if before else 0):,} records below k in the source, generalisation "
                    f"left {below_generalised:,}; those {risk.suppressed_records:,} were suppressed, so "
                    f"{(after.records_below_k if after else 0):,} published records are below k.")
    return Explained(k_text, l_text, rows, sentence, first_generalised_example(report))


def policy_yaml(report: PrivacyReport) -> str | None:
    """The job's privacy section as written, in YAML (None for a report made before policies were kept)."""
    if report.policy is None:
        return None
    return yaml.safe_dump({"privacy": report.policy}, sort_keys=False, allow_unicode=True, width=100)
