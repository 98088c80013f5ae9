"""The policy's actions on real columns: mask, pseudonymize (with real keys), generalize, suppress, redact."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import SecretStr

from anonymize.operators import Applied, OperatorContext, operator
from opendata.errors import ConfigurationError, JobFileError
from opendata.settings import Settings
from publishers.job import ColumnRule


def apply(rule: Any, values: list[str | None], settings: Settings) -> Applied:
    parsed = ColumnRule.model_validate(rule)
    return operator(parsed.action)(pa.array(values, pa.string()), parsed.params, OperatorContext(settings))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path)


def test_mask_keeps_the_last_characters(settings: Settings) -> None:
    applied = apply({"mask": {"keep_last": 4}}, ["4111111111111111", "123", None, ""], settings)
    assert applied.values is not None
    assert applied.values.to_pylist() == ["************1111", "***", None, ""]
    assert applied.changed == 2
    assert apply({"mask": 2}, ["555-0143"], settings).values.to_pylist() == ["******43"]  # type: ignore[union-attr]
    assert apply("mask", ["abcdefgh"], settings).values.to_pylist() == ["****efgh"]  # type: ignore[union-attr]
    assert apply({"mask": {"keep_last": 0}}, ["abc"], settings).values.to_pylist() == ["***"]  # type: ignore[union-attr]


def test_drop_counts_the_values_removed(settings: Settings) -> None:
    applied = apply("drop", ["a", None, "b"], settings)
    assert applied.values is None and applied.changed == 2


def test_pseudonyms_are_stable_across_calls_and_keyed(tmp_path: Path) -> None:
    values = ["alice@example.test", "bob@example.test", "alice@example.test", None, ""]
    dev = Settings(home=tmp_path / "home")
    first = apply("pseudonymize", values, dev).values.to_pylist()  # type: ignore[union-attr]
    second = apply("pseudonymize", values, Settings(home=tmp_path / "home")).values.to_pylist()  # type: ignore[union-attr]
    assert first == second
    assert first[0] == first[2] != first[1] and len(first[0]) == 16
    assert first[3] is None and first[4] is None
    key_file = dev.paths.secrets / "pseudonym.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_bytes()) == 32

    keyed = Settings(home=tmp_path / "home", pseudonym_key=SecretStr("k" * 32))
    other = apply("pseudonymize", values, keyed).values.to_pylist()  # type: ignore[union-attr]
    assert other[0] != first[0]
    assert apply({"pseudonymize": {"length": 24}}, values, keyed).values.to_pylist()[0].startswith(other[0])  # type: ignore[union-attr]


def test_production_without_a_key_cannot_go_on(tmp_path: Path) -> None:
    production = Settings(home=tmp_path, environment="production")
    with pytest.raises(ConfigurationError, match="OPENDATA_PSEUDONYM_KEY"):
        apply("pseudonymize", ["x"], production)
    assert not (production.paths.secrets / "pseudonym.key").exists()


def test_production_without_a_key_is_fine_when_nothing_is_pseudonymised(tmp_path: Path) -> None:
    from anonymize import anonymize_table
    from tests.anonymize_fixtures import make_job, text_table

    production = Settings(home=tmp_path, environment="production")
    job = make_job({"columns": {"email": "drop"}})
    _, report = anonymize_table(text_table({"email": ["a@b.test"]}), job, production, "run-1")
    assert not report.blocked


@pytest.mark.parametrize(("rule", "values", "expected"), [
    ({"generalize": "round", "digits": 2}, ["40.712776", "-73.935242", "x"], ["40.71", "-73.94", None]),
    ({"generalize": "round"}, ["1.005e1"], ["10.05"]),
    ({"generalize": "date", "to": "day"}, ["2024-05-08 13:47:00", "05/08/2024 01:15:00 PM"],
     ["2024-05-08", "2024-05-08"]),
    ({"generalize": "date", "to": "week"}, ["2024-05-08", "2024-05-12T23:59:59", "2024-05-13"],
     ["2024-05-06", "2024-05-06", "2024-05-13"]),
    ({"generalize": "date", "to": "month"}, ["2024-05-08", "2013-02-30", "soon"], ["2024-05", None, None]),
    ({"generalize": "date", "to": "year"}, ["2024-05-08T08:00:00Z"], ["2024"]),
    ({"generalize": "hour"}, ["2024-05-08 13:47:12", "2024-05-08T07:05:00", "2024-05-08"],
     ["2024-05-08T13:00:00", "2024-05-08T07:00:00", None]),
    ({"generalize": "bins", "width": 10}, ["20", "29", "30.5", "-1", "many"],
     ["20-29", "20-29", "30-39", "-10--1", None]),
    ({"generalize": "band"}, ["1984", "1984-05-03", "1990"], ["1980-1989", "1980-1989", "1990-1999"]),
    ({"generalize": "band", "width": 5}, ["42"], ["40-44"]),
    ({"generalize": "prefix"}, ["SW1A 1AA", "10001", " 94103 "], ["SW1", "100", "941"]),
    ({"generalize": {"method": "prefix", "length": 2}}, ["10001"], ["10"]),
])
def test_generalize_methods(rule: dict[str, Any], values: list[str], expected: list[str | None],
                            settings: Settings) -> None:
    applied = apply(rule, values, settings)
    assert applied.values is not None and applied.values.to_pylist() == expected


def test_unparseable_values_become_null_and_count_as_changed(settings: Settings) -> None:
    applied = apply({"generalize": "date", "to": "month"}, ["2024-05-08", "n/a", None], settings)
    assert applied.values.to_pylist() == ["2024-05", None, None]  # type: ignore[union-attr]
    assert applied.changed == 2 and applied.unparseable == 1


def test_suppress_replaces_rare_categories(settings: Settings) -> None:
    values = ["pothole"] * 12 + ["noise"] * 10 + ["rare-disease"] * 2 + [None]
    applied = apply({"suppress": {"min_count": 10}}, values, settings)
    assert applied.values.to_pylist() == ["pothole"] * 12 + ["noise"] * 10 + ["other"] * 2 + [None]  # type: ignore[union-attr]
    assert applied.changed == 2


def test_redact_replaces_each_finding_by_its_tag(settings: Settings) -> None:
    texts = [
        "Caller John Smith (john.smith@example.test, 212-555-0147) reported a pothole at 123 Main St.",
        "Refund to IBAN GB82 WEST 1234 5698 7654 32 for invoice INV-123456 approved.",
        "Card 4111 1111 1111 1111 declined; SSN 219-09-9999 on file; login from 10.1.2.3.",
        "Loud music after midnight on 2013-04-01 08:00:00.",
        "212-555-0147",
        None,
    ]
    applied = apply("redact", texts, settings)
    out = applied.values.to_pylist()  # type: ignore[union-attr]
    # The proper-noun run takes "Caller" with the name: better a word too many than a name left in.
    assert out[0].endswith("<PERSON> (<EMAIL_ADDRESS>, <PHONE_NUMBER>) reported a pothole at <STREET_ADDRESS>")
    assert out[1] == "Refund to IBAN <IBAN_CODE> for invoice INV-123456 approved."
    assert "<CREDIT_CARD>" in out[2] and "<US_SSN>" in out[2] and "<IP_ADDRESS>" in out[2]
    assert out[3] == texts[3]
    assert out[4] == "<PHONE_NUMBER>" and out[5] is None
    assert applied.changed == 4


def test_a_parameter_that_cannot_work_names_the_column(settings: Settings) -> None:
    from anonymize import anonymize_table
    from tests.anonymize_fixtures import make_job, text_table

    job = make_job({"columns": {"age": {"generalize": "bins", "width": "ten"}}})
    with pytest.raises(JobFileError, match=r"privacy.columns.age: width must be a positive number"):
        anonymize_table(text_table({"age": ["20"]}), job, settings, "run-1")


def test_redaction_keeps_institutions_and_removes_people(settings: Settings) -> None:
    notes = [
        "The Department of Transportation has completed the request or corrected the condition.",
        "The Police Department responded to the complaint and took action to fix the condition.",
        "Call back Robert Johnson at 212-555-0147.",
    ]
    redacted = apply("redact", notes, settings).values.to_pylist()  # type: ignore[union-attr]
    assert redacted[:2] == notes[:2]
    assert redacted[2] == "Call back <PERSON> at <PHONE_NUMBER>."


@pytest.mark.parametrize(
    "note",
    [
        "The Department of Consumer Affairs mailed you a complaint form.",
        "The letter was not returned to the Taxi and Limousine Commission, therefore it was closed.",
        "The Department for the Aging contacted you and provided the assistance requested.",
        "The Department of Health and Mental Hygiene has investigated the complaint.",
    ],
)
def test_redaction_keeps_agency_names_linked_by_of_and_and(settings: Settings, note: str) -> None:
    assert apply("redact", [note], settings).values.to_pylist() == [note]  # type: ignore[union-attr]


def test_a_person_of_an_institution_is_still_redacted(settings: Settings) -> None:
    redacted = apply("redact", ["Officer James Smith of the City Police wrote it."], settings)
    assert "James" not in str(redacted.values.to_pylist()) and "Smith" not in str(redacted.values.to_pylist())
