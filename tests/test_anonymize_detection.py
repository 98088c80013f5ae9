"""Detection: personal data is found by column name and values, uncovered columns block (fail closed),
and typical open-data columns raise no false alarm."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest

from anonymize import anonymize_table
from anonymize.detect_columns import detect_column, mask_example
from anonymize.recognizers import (
    LabelledValueRecognizer,
    PatternRecognizer,
    iban_valid,
    luhn_valid,
    recognizers,
    register_recognizer,
    ssn_valid,
    unregister_recognizer,
)
from anonymize.text_engine import text_engine
from anonymize.value_recognizers import NameLexiconRecognizer, NationalIdRecognizer, UsernameRecognizer
from opendata.settings import Settings
from tests.anonymize_fixtures import make_job, open_data, seeded_people, text_table

PERSONAL_COLUMNS = {
    "caller_name": "PERSON", "submitted_by": "PERSON", "contact": "EMAIL_ADDRESS", "callback": "PHONE_NUMBER",
    "ref_number": "US_SSN", "payment": "CREDIT_CARD", "account": "IBAN_CODE", "source_host": "IP_ADDRESS",
    "location": "STREET_ADDRESS", "dob": "DATE_OF_BIRTH", "plate": "VEHICLE_PLATE", "notes": "PERSON",
    # a postcode or a coordinate places a person unless the policy says the place is public (issue 12)
    "zip": "POSTCODE", "latitude": "COORDINATE", "longitude": "COORDINATE",
}


def engine_factory(settings: Settings):  # type: ignore[no-untyped-def]
    return lambda: text_engine(settings.spacy_model)


@pytest.fixture(scope="module")
def blocked_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    table, seeds = seeded_people()
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    job = make_job().model_copy(update={"path": Path("/jobs/city/service-requests.yaml")})
    return anonymize_table(table, job, settings, "run-1") + (seeds,)


def test_every_uncovered_personal_column_blocks_with_a_finding_naming_it(blocked_run) -> None:  # type: ignore[no-untyped-def]
    _, report, _ = blocked_run
    assert report.blocked
    blocking = {f.column: f for f in report.findings if f.blocking}
    assert set(blocking) == set(PERSONAL_COLUMNS)
    for column, entity in PERSONAL_COLUMNS.items():
        finding = blocking[column]
        assert finding.type == "uncovered-personal-data"
        assert repr(column) in finding.message and entity in finding.message
        assert "privacy.columns in /jobs/city/service-requests.yaml" in finding.message
        assert "drop, redact, mask, pseudonymize or generalize, or keep" in finding.message


def test_locations_block_and_are_named_as_quasi_identifiers(blocked_run) -> None:  # type: ignore[no-untyped-def]
    _, report, _ = blocked_run
    location = {f.column: f for f in report.findings if f.column in ("zip", "latitude", "longitude")}
    assert set(location) == {"zip", "latitude", "longitude"}
    assert all(f.blocking and f.type == "uncovered-personal-data" for f in location.values())
    assert all("privacy.quasi_identifiers" in f.message for f in location.values())
    columns = {c.name: c for c in report.columns}
    assert [d.entity for d in columns["zip"].detections] == ["POSTCODE"]
    assert [d.entity for d in columns["latitude"].detections] == ["COORDINATE"]
    assert columns["request_id"].detections == []


def test_detections_say_how_and_show_only_masked_examples(blocked_run) -> None:  # type: ignore[no-untyped-def]
    _, report, seeds = blocked_run
    columns = {c.name: c for c in report.columns}
    email = columns["contact"].detections[0]
    assert (email.entity, email.source, email.count, email.sampled) == ("EMAIL_ADDRESS", "values", 240, 240)
    assert email.examples and all(e.endswith(".test") and "*" in e for e in email.examples)
    card = columns["payment"].detections[0]
    assert card.entity == "CREDIT_CARD" and card.confidence >= 0.9
    notes = {d.entity: d for d in columns["notes"].detections}
    assert {"FREE_TEXT", "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER"} <= set(notes)
    assert notes["PERSON"].source == "text"
    # full names in a column: the names lexicons recognise the values themselves
    assert {d.source for d in columns["submitted_by"].detections} == {"values"}
    raw = {v for values in seeds.values() for v in values}
    examples = [e for c in report.columns for d in c.detections for e in d.examples]
    assert examples and not any(e in raw for e in examples)


def test_typical_open_data_raises_no_false_alarm(tmp_path: Path) -> None:
    anonymized, report = anonymize_table(open_data(), make_job(), Settings(home=tmp_path), "run-1")
    # only the location columns block, until the policy says their places are public
    assert {f.column for f in report.findings if f.blocking} == {"Incident Zip", "Latitude", "Longitude"}
    public = {"columns": {"Incident Zip": "keep", "Latitude": "keep", "Longitude": "keep"}}
    _, reviewed = anonymize_table(open_data(), make_job(public), Settings(home=tmp_path), "run-2")
    assert not reviewed.blocked, reviewed.findings
    found = {c.name: sorted(d.entity for d in c.detections) for c in report.columns}
    assert found == {
        "Unique Key": [], "Created Date": [], "Closed Date": [], "Agency Name": [], "Complaint Type": [],
        "Incident Zip": ["POSTCODE"], "Latitude": ["COORDINATE"], "Longitude": ["COORDINATE"],
        "Amount": [], "Invoice": [], "Route": [], "BBL": [], "Council District": [], "Year": [],
    }
    assert anonymized.table.equals(open_data())


def test_zip_codes_alone_are_postcodes_not_phones(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    zips = pa.array(["10001", "11201", "10451-2345", "94103", None, "60614"] * 30)
    entities = [d.entity for d in detect_column("area", zips, engine_factory(settings))]
    assert entities == ["POSTCODE"]


@pytest.mark.parametrize(("values", "entity"), [
    (["john.smith@example.test", "a.b@city.gov", "x@y.org"], "EMAIL_ADDRESS"),
    (["(212) 555-0143", "+44 20 7946 0958", "+49 (0) 30 1234567", "555.123.4567"], "PHONE_NUMBER"),
    (["123-45-6781", "219-09-9999", "078-05-1121"], "US_SSN"),
    (["4111 1111 1111 1111", "5500-0000-0000-0004", "340000000000009"], "CREDIT_CARD"),
    (["GB82WEST12345698765432", "DE89 3704 0044 0532 0130 00", "FR1420041010050500013M02606"], "IBAN_CODE"),
    (["192.168.10.1", "8.8.8.8", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"], "IP_ADDRESS"),
    (["123 Main St", "12 WEST 45 STREET", "4500 N Broadway Apt 3", "Hauptstraße 12"], "STREET_ADDRESS"),
    (["(40.7128, -74.0060)", "(40.6782, -73.9442)"], "COORDINATE"),
])
def test_value_recognizers(values: list[str], entity: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    found = [d.entity for d in detect_column("value", pa.array(values * 20), engine_factory(settings))]
    assert entity in found


@pytest.mark.parametrize("values", [
    ["2013-04-01 08:00:00", "2013-04-02 17:45:12"],
    ["04/01/2013 08:00:00 AM", "12/31/2013 11:59:59 PM"],
    ["40.71281234", "-73.93524212", "40.6"],
    ["1234567.89", "12.50", "0.99"],
    ["INV-123456", "INV-654321"],
    ["26543210", "31234567"],
    ["M15", "Bx12", "B44-SBS"],
    ["1012340001", "3056780012"],
])
def test_no_false_positives_on_open_data_values(values: list[str], tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert detect_column("value", pa.array(values * 50), engine_factory(settings)) == []


def test_checksums() -> None:
    assert luhn_valid("4111 1111 1111 1111") and not luhn_valid("4111 1111 1111 1112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB83WEST12345698765432")
    assert ssn_valid("123-45-6789") and not ssn_valid("666-45-6789") and not ssn_valid("123-00-6789")


def test_a_column_of_random_16_digit_ids_is_not_a_card(tmp_path: Path) -> None:
    ids = pa.array([str(1000000000000000 + i * 7919) for i in range(300)])
    assert detect_column("id", ids, engine_factory(Settings(home=tmp_path))) == []


def test_free_text_without_personal_data_is_reported_without_blocking(tmp_path: Path) -> None:
    notes = [f"Pothole number {i} on the bridge deck was filled and the lane reopened to traffic."
             for i in range(60)]
    table = text_table({"work_notes": notes})
    _, report = anonymize_table(table, make_job(), Settings(home=tmp_path), "run-1")
    assert not report.blocked
    assert [d.entity for d in report.columns[0].detections] == ["FREE_TEXT"]
    assert report.flatten(["type", "column", "blocking"]) == [["uncovered-free-text", "work_notes", False]]


def test_mask_example_never_shows_the_value() -> None:
    assert mask_example("john@example.test") == "j***@e******.test"
    assert mask_example("555-123-4567") == "5**-1**-4***"


@dataclass(frozen=True)
class EmployeeNumbers:
    """An outside recognizer: the same Protocol the built-ins use, no subclassing."""

    entity: str = "EMPLOYEE_NUMBER"
    min_share: float = 0.3
    score: float = 0.9

    def match(self, values: pa.Array) -> pa.Array:
        import pyarrow.compute as pc

        return pc.match_substring_regex(values, r"^EMP-\d{5}$")

    def find(self, text: str) -> list[tuple[int, int]]:
        import re

        return [m.span() for m in re.finditer(r"\bEMP-\d{5}\b", text)]


def test_an_outside_recognizer_plugs_in_through_the_protocol(tmp_path: Path) -> None:
    register_recognizer(EmployeeNumbers())
    try:
        table = text_table({"staff": [f"EMP-{i:05d}" for i in range(50)]})
        _, report = anonymize_table(table, make_job(), Settings(home=tmp_path), "run-1")
        assert report.flatten(["type", "column"]) == [["uncovered-personal-data", "staff"]]
        assert "EMPLOYEE_NUMBER" in report.findings[0].message
        notes = text_table({"notes": ["Badge EMP-00042 was used at the north gate after hours."]})
        redacted, _ = anonymize_table(notes, make_job({"columns": {"notes": "redact"}}),
                                      Settings(home=tmp_path), "run-2")
        assert redacted.table.column("notes").to_pylist() == [
            "Badge <EMPLOYEE_NUMBER> was used at the north gate after hours."]
    finally:
        unregister_recognizer("EMPLOYEE_NUMBER")
    built_in = (PatternRecognizer, LabelledValueRecognizer, NameLexiconRecognizer, UsernameRecognizer,
                NationalIdRecognizer)
    assert all(isinstance(r, built_in) for r in recognizers())


def test_a_few_notes_naming_people_block_even_in_a_tiny_table(tmp_path: Path) -> None:
    notes = ["Caller Maria Gonzalez reported a deep pothole.", "Loud music after midnight, neighbour complained.",
             "Graffiti on the north wall of the library.", "Call back Robert Johnson at 212-555-0147."]
    _, report = anonymize_table(text_table({"notes": notes}), make_job(), Settings(home=tmp_path), "run-1")
    assert report.flatten(["type", "column", "blocking"]) == [["uncovered-personal-data", "notes", True]]


@pytest.mark.parametrize(("name", "entities"), [
    ("Caller Name", ["PERSON"]), ("callerName", ["PERSON"]), ("Date of Birth", ["DATE_OF_BIRTH"]),
    ("birth_year", ["DATE_OF_BIRTH"]), ("IP Address", ["IP_ADDRESS"]), ("email_address", ["EMAIL_ADDRESS"]),
    ("License Plate", ["VEHICLE_PLATE"]), ("Incident Zip", ["POSTCODE"]), ("lng", ["COORDINATE"]),
    ("Park Name", []), ("Street Name", []), ("Agency Name", []), ("Unique Key", []),
])
def test_column_names(name: str, entities: list[str], tmp_path: Path) -> None:
    found = detect_column(name, pa.array([None, None], pa.string()), engine_factory(Settings(home=tmp_path)))
    assert [d.entity for d in found] == entities


def test_a_name_that_describes_an_entity_does_not_hold_one() -> None:
    from anonymize.name_rules import name_rules, normalize_name

    for name in ("Address Type", "email_verified", "phone_count", "address_type"):
        assert not [r.entity for r in name_rules() if r.matches(normalize_name(name))], name
    assert [r.entity for r in name_rules() if r.matches(normalize_name("Incident Address"))] == ["STREET_ADDRESS"]
