"""The whole stage: a covering policy lets nothing seeded through; risk, suppression and the report."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from anonymize import anonymize_table, policy_hash
from opendata.settings import Settings
from tests.anonymize_fixtures import make_job, seeded_people, text_table

COVERING_POLICY: dict[str, Any] = {
    "columns": {
        "caller_name": "pseudonymize",
        "submitted_by": "drop",
        "contact": {"mask": {"keep_last": 4}},
        "callback": "drop",
        "ref_number": {"mask": 4},
        "payment": {"mask": 4},
        "account": "drop",
        "source_host": "pseudonymize",
        "location": "redact",
        "zip": {"generalize": "prefix", "length": 3},
        "dob": {"generalize": "band", "width": 10},
        "latitude": {"generalize": "round", "digits": 2},
        "longitude": {"generalize": "round", "digits": 2},
        "plate": "drop",
        "notes": "redact",
    },
    "quasi_identifiers": ["zip", "dob"],
}


@pytest.fixture(scope="module")
def covered_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    table, seeds = seeded_people()
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    anonymized, report = anonymize_table(table, make_job(COVERING_POLICY), settings, "run-1")
    return table, seeds, anonymized, report


def test_a_covering_policy_unblocks_the_release(covered_run) -> None:  # type: ignore[no-untyped-def]
    _, _, _, report = covered_run
    assert not report.blocked, [f.message for f in report.findings if f.blocking]


def test_no_seeded_personal_value_survives_anywhere(covered_run) -> None:  # type: ignore[no-untyped-def]
    _, seeds, anonymized, _ = covered_run
    cells = [str(v) for column in anonymized.table.columns for v in column.to_pylist() if v is not None]
    blob = "\n".join(cells)
    for kind, values in seeds.items():
        survivors = [v for v in values if v in blob]
        assert survivors == [], f"{kind} survived: {survivors[:5]}"
    # Stricter for names in free text: not even the surname alone.
    notes = "\n".join(str(v) for v in anonymized.table.column("notes").to_pylist())
    longest = (max(re.findall(r"[^\W\d_]{4,}", name), key=len, default="") for name in seeds["names"][:240])
    surnames = {word for word in longest if word}
    assert len(surnames) > 150
    assert [s for s in surnames if re.search(rf"\b{re.escape(s)}\b", notes)] == []


def test_the_output_keeps_source_order_text_types_and_drops_dropped_columns(covered_run) -> None:  # type: ignore[no-untyped-def]
    table, _, anonymized, report = covered_run
    dropped = {"submitted_by", "callback", "account", "plate"}
    assert anonymized.table.column_names == [c for c in table.column_names if c not in dropped]
    assert all(field.type == pa.string() for field in anonymized.table.schema)
    assert [c.name for c in report.columns] == table.column_names
    columns = {c.name: c for c in report.columns}
    assert columns["plate"].action == "drop" and columns["plate"].changed == table.num_rows
    assert columns["request_id"].action == "keep" and not columns["request_id"].covered
    assert columns["notes"].changed == table.num_rows
    assert columns["zip"].params == {"method": "prefix", "length": 3}
    assert report.rows_in == table.num_rows == report.rows_out == anonymized.table.num_rows
    notes = anonymized.table.column("notes").to_pylist()
    assert all("<PERSON>" in n for n in notes)
    assert "<EMAIL_ADDRESS>" in notes[1] and "<PHONE_NUMBER>" in notes[0]


def test_report_identity_and_policy_hash(covered_run) -> None:  # type: ignore[no-untyped-def]
    _, _, anonymized, report = covered_run
    assert (report.dataset, report.run_id) == ("service-requests", "run-1") == (
        anonymized.dataset, anonymized.run_id)
    policy = make_job(COVERING_POLICY).privacy
    canonical = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    assert report.policy_hash == policy_hash(policy) == hashlib.sha256(canonical.encode()).hexdigest()
    assert report.created_at.endswith("+00:00")
    json.loads(report.model_dump_json())  # the report serialises


def test_pseudonyms_are_stable_between_releases(covered_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    table, _, first, _ = covered_run
    settings = Settings(home=tmp_path)
    a, _ = anonymize_table(table.select(["caller_name"]), make_job(COVERING_POLICY), settings, "run-2")
    b, _ = anonymize_table(table.select(["caller_name"]), make_job(COVERING_POLICY), settings, "run-3")
    assert a.table.column("caller_name").equals(b.table.column("caller_name"))
    # another home, another development key: other pseudonyms
    assert not a.table.column("caller_name").equals(first.table.column("caller_name"))


def test_explicit_keep_covers_a_column(tmp_path: Path) -> None:
    table = text_table({"contact_email": ["press@city.test", "info@city.test"] * 10})
    _, uncovered = anonymize_table(table, make_job(), Settings(home=tmp_path), "run-1")
    _, kept = anonymize_table(table, make_job({"columns": {"contact_email": "keep"}}),
                              Settings(home=tmp_path), "run-1")
    assert uncovered.blocked and not kept.blocked
    assert kept.columns[0].covered and kept.columns[0].detections[0].entity == "EMAIL_ADDRESS"


def k_table() -> pa.Table:
    ages = ["34"] * 5 + ["35"] * 3 + ["52"] * 2 + ["71"] + ["29"] * 4
    zips = ["10001"] * 5 + ["10002"] * 3 + ["10003"] * 2 + ["10001"] + ["11201"] * 4
    return text_table({"id": [str(i) for i in range(len(ages))], "age": ages, "zip": zips})


def test_k_anonymity_suppresses_small_classes_and_counts_them(tmp_path: Path) -> None:
    policy = {
        "columns": {"age": {"generalize": "bins", "width": 10}, "zip": {"generalize": "prefix", "length": 4}},
        "quasi_identifiers": ["age", "zip"], "k": 3,
    }
    anonymized, report = anonymize_table(k_table(), make_job(policy), Settings(home=tmp_path), "run-1")
    risk = report.risk
    assert risk is not None and risk.k == 3
    assert risk.before is not None and risk.after is not None
    assert (risk.before.records, risk.before.equivalence_classes, risk.before.smallest_class) == (15, 5, 1)
    assert (risk.before.unique_records, risk.before.uniqueness) == (1, round(1 / 15, 6))
    assert risk.before.class_sizes == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1}
    # generalised: 30-39/1000 (8), 50-59/1000 (2), 70-79/1000 (1), 20-29/1120 (4); classes of 2 and 1 go
    assert risk.suppressed_records == 3
    assert (report.rows_in, report.rows_out) == (15, 12)
    assert risk.after.smallest_class >= 3 and risk.after.class_sizes == {"4": 1, "8": 1}
    assert anonymized.table.column("id").to_pylist() == [str(i) for i in range(8)] + ["11", "12", "13", "14"]
    assert not report.blocked


def test_a_missing_quasi_identifier_and_a_missing_policy_column_both_block(tmp_path: Path) -> None:
    policy = {"columns": {"age": "keep", "gone": "drop"}, "quasi_identifiers": ["age", "postcode"], "k": 2}
    _, report = anonymize_table(k_table(), make_job(policy), Settings(home=tmp_path), "run-1")
    rows = report.flatten(["type", "column", "blocking"])
    assert ["quasi-identifier-missing", "postcode", True] in rows
    # a policy entry for a column the table lacks is a typo or a column gone unnoticed (issue 12)
    assert ["policy-column-missing", "gone", True] in rows
    assert report.blocked


def test_k_without_quasi_identifiers_blocks(tmp_path: Path) -> None:
    _, report = anonymize_table(k_table(), make_job({"k": 5}), Settings(home=tmp_path), "run-1")
    assert ["k-anonymity-not-met", None, True] in report.flatten(["type", "column", "blocking"])


def test_changes_since_the_previous_release_are_reported(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    before = text_table({"contact": ["front desk", "reception"] * 10})
    after = text_table({"contact": ["a@city.test", "b@city.test"] * 10})
    _, previous = anonymize_table(before, make_job({"columns": {"contact": "keep"}}), settings, "run-1")
    _, report = anonymize_table(after, make_job({"columns": {"contact": "mask"}}), settings, "run-2",
                                previous=previous)
    assert report.flatten(["type", "column", "blocking"]) == [
        ["policy-changed", None, False], ["new-personal-data", "contact", False],
    ]


def test_an_empty_table_is_not_an_error(tmp_path: Path) -> None:
    table = text_table({"email": [], "age": []})
    policy = {"columns": {"email": "pseudonymize", "age": {"generalize": "band"}}, "quasi_identifiers": ["age"],
              "k": 5}
    anonymized, report = anonymize_table(table, make_job(policy), Settings(home=tmp_path), "run-1")
    assert anonymized.table.num_rows == 0 and report.rows_out == 0 and not report.blocked
