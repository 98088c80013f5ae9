"""People among OCDS parties (sole traders, beneficial owners): found from OCDS signals, published by keyed
pseudonym in every table and in the red flags, their names left to the job's policy."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
from fastapi.testclient import TestClient

from api.app import create_app
from opendata.settings import Settings
from procurement.people import person_reason, reads_as_person_name
from publishers.job import load_job
from publishers.red_flag_ids import public_ids
from publishers.runner import run_job
from tests.test_procurement_publish import CONTACTS, REVIEWED, write_ocds_job

OCDS = Path(__file__).parent / "data" / "ocds"
SOLE_TRADER = "GB-COH-11111111"


def test_ocds_signals_tell_people_from_organisations() -> None:
    assert person_reason({"id": "1", "name": "AnyCorp", "details": {"scale": "selfEmployed"}}) == "details.scale"
    assert person_reason({"id": "2", "details": {"scale": "Sole trader"}}) == "details.scale"
    rfc = "Registro Federal de Contribuyentes de México"  # as Mexico's Compranet names the scheme
    assert person_reason({"identifier": {"scheme": rfc, "id": "VIFM650101AB3"}}) == "identifier.scheme"
    assert person_reason({"identifier": {"scheme": rfc, "id": "GAB0709244G5"}}) is None  # a company's RFC
    assert person_reason({"identifier": {"scheme": "MX-CURP", "id": "X"}}) == "identifier.scheme"
    assert person_reason({"name": "Miguel Vidal Franco"}) == "name"
    for organisation in ("London Borough of Barnet", "Beta Corp Construction", "GLOBAL ASSURANCE BROKERS SA DE CV",
                         "INAH-Dirección de Recursos Materiales y Servicios #048D00001", "Secretaría de Finanzas"):
        assert not reads_as_person_name(organisation), organisation
        assert person_reason({"name": organisation}) is None


def _sample_with_people(folder: Path) -> Path:
    """The OCP sample data (from ocdskit's sdist), its supplier made a sole trader and a beneficial owner
    added to its other tenderer, as the partyScale codelist and the beneficialOwners extension put them."""
    package = json.loads(gzip.decompress((OCDS / "ocds-sample-data.json.gz").read_bytes()))
    for release in package["releases"]:
        for party in release.get("parties", []):
            if party["id"] == SOLE_TRADER:
                party["details"] = {**party.get("details", {}), "scale": "selfEmployed"}
            if party["id"] == "GB-COH-22222222":
                party["beneficialOwners"] = [{"id": "bo-1", "name": "Jane Whitfield"}]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sample.json"
    path.write_text(json.dumps(package), encoding="utf-8")
    (folder / "flags.ini").write_text("[R018]\n[P003]\nminimum_contracting_processes = 1\nthreshold = 0.1\n"
                                      "[transparency]\n", encoding="utf-8")
    return path


def _published(settings: Settings, dataset: str) -> str:
    files = sorted((settings.paths.releases / dataset).rglob("data.parquet"))
    return json.dumps(duckdb.sql(f"SELECT * FROM read_parquet('{files[-1]}')").fetchall(), default=str)


def test_a_sole_trader_is_published_by_pseudonym_in_every_table_and_in_the_red_flags(
        tmp_path: Path, settings: Settings) -> None:
    folder = tmp_path / "jobs" / "barnet"
    _sample_with_people(folder)
    path = write_ocds_job(folder, ["sample.json"], {**CONTACTS, **REVIEWED, "parties.party_kind": "keep",
                                                    "items.unit_name": "keep"},
                          name="barnet", indicators="flags.ini")
    result = run_job(path, settings)
    assert result.ok, [(r.run.dataset, r.run.error) for r in (result, *result.family) if not r.ok]
    assert result.validation.source_findings["ocds"]["people_among_parties"] == 2  # its party id and identifier id
    published = {t: _published(settings, f"barnet-{t}") for t in ("processes", "bids", "awards", "parties",
                                                                  "transactions")}
    for table, text in published.items():
        assert SOLE_TRADER not in text and "11111111" not in text, f"the sole trader's id is in {table}"
        assert "AnyCorp Cycle Provision" not in text, f"the sole trader's name is in {table}"
        assert "Jane Whitfield" not in text, f"a beneficial owner is in {table}"
    parties = duckdb.sql(f"""SELECT party_id, name, party_kind FROM read_parquet('{sorted(
        (settings.paths.releases / 'barnet-parties').rglob('data.parquet'))[-1]}') ORDER BY party_id""").fetchall()
    people = {row[0] for row in parties if row[2] == "person"}
    assert len(people) == 1
    (pseudonym,) = people
    assert pseudonym.startswith("person-") and pseudonym in published["awards"]
    assert ("GB-LAC-E09000003", "London Borough of Barnet", "organisation") in parties  # organisations kept

    client = TestClient(create_app(settings))
    flags = client.get("/api/v1/datasets/barnet-processes/releases/1/red-flags").json()
    assert pseudonym in flags["Tenderer"] and "P003" in flags["Tenderer"][pseudonym]
    assert "GB-LAC-E09000003" in flags["Buyer"]
    assert SOLE_TRADER not in json.dumps(flags)
    page = client.get(f"/procurement/barnet/suppliers/{pseudonym}")
    assert page.status_code == 200 and "AnyCorp" not in page.text and SOLE_TRADER not in page.text
    assert client.get(f"/procurement/barnet/suppliers/{SOLE_TRADER}").status_code == 404

    again = run_job(path, settings)  # the job's key: the same pseudonym in the next release
    assert again.ok and pseudonym in _published(settings, "barnet-parties")


def test_red_flag_organisations_follow_the_policy_on_id_columns(tmp_path: Path) -> None:
    document = {"OCID": {"ocds-1": {"R018": 1.0}}, "Buyer": {"B1": {"P003": 0.5}},
                "Tenderer": {"T1": {"P003": 0.5}, "T2": {"R038": 0.3}}, "Meta": {}}
    path = write_ocds_job(tmp_path, ["x.json"], {"parties.party_id": "pseudonymize", "bids.tenderer_ids":
                                                 "pseudonymize", "awards.supplier_ids": "pseudonymize",
                                                 "processes.buyer_id": "drop"})
    (tmp_path / "x.json").write_text("{}", encoding="utf-8")
    shown = public_ids(document, load_job(path), lambda: b"k" * 32)
    assert shown["OCID"] == document["OCID"]
    assert shown["Buyer"] == {"withheld-1": {"P003": 0.5}}
    assert len(shown["Tenderer"]) == 2 and not {"T1", "T2"} & set(shown["Tenderer"])
    assert all(len(k) == 16 for k in shown["Tenderer"])
