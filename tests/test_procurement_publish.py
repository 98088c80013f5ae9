"""Publishing real OCDS data as a family of linked tables: the privacy gate on contact persons, the OCDS
findings in the validation report, and the red-flag API answering on the published release."""

from __future__ import annotations

import gzip
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import frictionless
import pytest
import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.store import open_catalog
from opendata.errors import JobFileError
from opendata.settings import Settings
from publishers.runner import run_job

OCDS = Path(__file__).parent / "data" / "ocds"
CONTACTS = {"parties.contact_point_name": "drop", "parties.contact_point_email": "drop",
            "parties.contact_point_telephone": "pseudonymize", "parties.contact_point_fax_number": "drop",
            "parties.contact_point_url": "drop", "parties.street_address": "drop",
            "parties.person_name": "drop", "parties.beneficial_owners": "drop"}
REVIEWED = {"parties.name": "keep", "parties.locality": "keep", "parties.region": "keep",
            "parties.identifier_legal_name": "keep", "parties.postal_code": "keep", "payee_name": "keep",
            "payer_name": "keep", "tenderer_names": "keep", "supplier_names": "keep", "title": "keep",
            "description": "keep", "buyer_name": "keep", "procuring_entity_name": "keep"}


def write_ocds_job(folder: Path, files: list[str], columns: dict[str, str], name: str = "cdmx-contracts",
                   **source: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    job = {"name": name, "title": "Contracts", "organization": "cdmx", "license": "CC-BY-4.0",
           "source": {"type": "ocds", "path": files, **source}, "privacy": {"columns": columns}}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(job, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def real_data(tmp_path: Path) -> Path:
    folder = tmp_path / "jobs" / "cdmx"
    folder.mkdir(parents=True)
    (folder / "sample.json").write_bytes(gzip.decompress((OCDS / "ocds-sample-data.json.gz").read_bytes()))
    for name in ("release-package_encoding-iso-8859-1.json", "record-package-1.json", "release-package_split.json"):
        shutil.copy(OCDS / name, folder / name)
    return folder


def published_values(settings: Settings, dataset: str) -> list[str]:
    files = list((settings.paths.releases / dataset).rglob("data.parquet"))
    assert files, f"{dataset} has no published release"
    rows = duckdb.sql(f"SELECT * FROM read_parquet('{files[-1]}')").fetchall()
    return [str(v) for row in rows for v in row if v is not None]


def test_real_ocds_publishes_nine_tables_without_contact_persons(real_data: Path, settings: Settings) -> None:
    path = write_ocds_job(real_data, ["sample.json", "release-package_encoding-iso-8859-1.json",
                                      "record-package-1.json", "release-package_split.json"],
                          {**CONTACTS, **REVIEWED})
    result = run_job(path, settings)
    assert result.ok, [(r.run.dataset, r.run.state, r.run.error) for r in (result, *result.family) if not r.ok]
    names = [r.run.dataset for r in (result, *result.family)]
    assert names == [f"cdmx-contracts-{t}" for t in ("processes", "tenders", "lots", "items", "bids", "awards",
                                                     "contracts", "transactions", "parties")]
    for table in names:  # each table's datapackage.json passes frictionless, as every release's does
        descriptor = next((settings.paths.releases / table).rglob("datapackage.json"))
        checked = frictionless.Package.validate_descriptor(json.loads(descriptor.read_text()))
        assert checked.valid, (table, checked.flatten(["type", "message"]))
    parties = published_values(settings, "cdmx-contracts-parties")
    assert "SECRETARÍA DE FINANZAS" in parties  # ISO-8859-1 read right; organisations kept
    for person in ("MIGUEL ÁNGEL VIDAL FRANCO", "mvidal@finanzas.df.gob.mx", "5134-2500"):
        assert all(person not in v for v in parties), f"{person} was published"
    processes = duckdb.sql(f"""SELECT ocid, red_flags FROM read_parquet('{next(
        (settings.paths.releases / 'cdmx-contracts-processes').rglob('data.parquet'))}')""").fetchall()
    assert ("OCDS-87SD3T-AD-SF-DRM-065-2015", "R003, R018") in processes

    client = TestClient(create_app(settings))
    flags = client.get("/api/v1/datasets/cdmx-contracts-processes/releases/1/red-flags")
    assert flags.status_code == 200, flags.text
    body = flags.json()
    assert body["OCID"]["OCDS-87SD3T-AD-SF-DRM-065-2015"] == {"R003": 1.0, "R018": 1.0}
    assert "Meta" in body
    assert flags.headers["ETag"].startswith('"') and "immutable" in flags.headers["Cache-Control"]
    only = client.get("/api/v1/datasets/cdmx-contracts-parties/releases/1/red-flags",
                      params={"group": "OCID", "code": "R018", "meta": "false"}).json()
    assert only == {"OCID": {"OCDS-87SD3T-AD-SF-DRM-065-2015": {"R018": 1.0}}}
    bad = client.get("/api/v1/datasets/cdmx-contracts-parties/releases/1/red-flags", params={"code": "R999"})
    assert bad.status_code == 400 and "R999" in bad.json()["error"]["message"]
    missing = client.get("/api/v1/datasets/cdmx-contracts-parties/releases/9/red-flags")
    assert missing.status_code == 404
    index = client.get("/procurement/cdmx-contracts")
    assert index.status_code == 200 and 'href="http://testserver/procurement/cdmx-contracts/buyers/GDF9712054NA"' \
        in index.text
    buyer = client.get("/procurement/cdmx-contracts/buyers/GDF9712054NA")
    assert buyer.status_code == 200, buyer.text
    page = buyer.text
    assert "SECRETARÍA DE FINANZAS" in page and "not a finding of wrongdoing" in page
    assert "OCDS-87SD3T-AD-SF-DRM-065-2015" in page and "Single bid received" in page
    assert "https://cardinal.readthedocs.io/en/latest/cli/indicators/R/018.html" in page
    assert "MIGUEL" not in page
    supplier = client.get("/procurement/cdmx-contracts/suppliers/CES031203IG0")
    assert supplier.status_code == 200 and "COMERCIALIZADORA DE EQUIPOS" in supplier.text
    assert client.get("/procurement/cdmx-contracts/suppliers/NOBODY").status_code == 404
    assert client.get("/procurement/no-such-family/buyers/X").status_code == 404
    report = client.get("/api/v1/datasets/cdmx-contracts-processes/releases/1/validation-report").json()
    ocds = report["source_findings"]["ocds"]
    assert ocds["schema"] == "OCDS 1.1.4 release schema" and ocds["schema_errors"] > 0
    assert ocds["counts"]["schema-error"] > 0
    assert all("VIDAL" not in f["message"] for f in ocds["first"])


def test_an_uncovered_contact_person_column_blocks_the_release(real_data: Path, settings: Settings) -> None:
    uncovered = {k: v for k, v in CONTACTS.items() if k != "parties.contact_point_name"}
    path = write_ocds_job(real_data, ["release-package_encoding-iso-8859-1.json"], {**uncovered, **REVIEWED},
                          tables=["parties"])
    result = run_job(path, settings)
    assert result.run.state == "blocked"
    assert "contact_point_name" in (result.run.error or "")
    assert "VIDAL" not in (result.run.error or "")
    assert not (settings.paths.releases / "cdmx-contracts-parties").exists()


def test_a_policy_naming_a_column_the_family_lacks_is_refused(real_data: Path, settings: Settings) -> None:
    path = write_ocds_job(real_data, ["sample.json"], {"parties.contact_name": "drop", "nowhere": "keep"})
    with pytest.raises(JobFileError) as caught:
        run_job(path, settings)
    assert "table parties has no column 'contact_name'" in str(caught.value)
    assert "'nowhere' is a column of no table" in str(caught.value)


def test_bad_input_is_a_finding_and_nothing_else_is_lost(tmp_path: Path, settings: Settings) -> None:
    folder = tmp_path / "jobs" / "bad"
    folder.mkdir(parents=True)

    def release(ocid: str | None, currency: str) -> dict:
        found = {"id": "1", "date": "2024-01-01T00:00:00Z", "tag": ["tender"], "initiationType": "tender",
                 "tender": {"id": "t", "value": {"amount": 10, "currency": currency}}}
        return {**found, "ocid": ocid} if ocid else found

    lines = [json.dumps(release("ocds-a-1", "USD")), '{"ocid": "ocds-a-2", "broken', json.dumps(release(None, "USD")),
             json.dumps(release("ocds-a-3", "EUR"))]
    (folder / "releases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = write_ocds_job(folder, ["releases.jsonl"], {}, name="bad-input", tables=["processes"])
    result = run_job(path, settings)
    assert result.ok, result.run.error
    assert result.run.rows_out == 2  # ocds-a-1 and ocds-a-3: every readable process kept
    ocds = result.validation.source_findings["ocds"]
    assert ocds["counts"] == {"malformed-line": 1, "missing-ocid": 1}
    assert "line 2 is not JSON" in ocds["first"][0]["message"]


class _Pages(http.server.BaseHTTPRequestHandler):
    pages: dict[str, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        body = self.pages.get(self.path)
        self.send_response(200 if body else 404)
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def paged_api() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    package = json.loads((OCDS / "release-package_encoding-iso-8859-1.json").read_bytes().decode("iso-8859-1"))
    first, second = package["releases"][:2], package["releases"][2:]
    _Pages.pages = {
        "/releases?page=1": json.dumps({**package, "releases": first, "links": {"next": f"{base}/releases?page=2"}},
                                       ensure_ascii=False).encode("iso-8859-1"),
        "/releases?page=2": json.dumps({**package, "releases": second}, ensure_ascii=False).encode("iso-8859-1"),
    }
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


def test_a_paged_http_api_is_followed_page_by_page(tmp_path: Path, settings: Settings, paged_api: str) -> None:
    folder = tmp_path / "jobs" / "paged"
    folder.mkdir(parents=True)
    job = {"name": "paged", "title": "Paged", "organization": "cdmx", "license": "CC-BY-4.0",
           "source": {"type": "ocds", "url": f"{paged_api}/releases?page=1", "paging": {}, "tables": ["processes"]}}
    path = folder / "paged.yaml"
    path.write_text(yaml.safe_dump(job), encoding="utf-8")
    result = run_job(path, settings)
    assert result.ok, result.run.error
    package = json.loads((OCDS / "release-package_encoding-iso-8859-1.json").read_bytes().decode("iso-8859-1"))
    assert result.run.rows_out == len({r["ocid"] for r in package["releases"]})
    assert not list(settings.paths.staging.rglob("page-*.json")), "downloaded pages are removed"


def test_an_ocds_job_with_a_schema_or_incremental_key_is_refused(real_data: Path) -> None:
    from publishers.job import load_job

    path = write_ocds_job(real_data, ["sample.json"], {})
    job = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**job, "schema": "x.json", "incremental": {"cursor": "date"}}), encoding="utf-8")
    with pytest.raises(JobFileError) as caught:
        load_job(path)
    assert "built-in schemas" in str(caught.value) and "incremental: not supported" in str(caught.value)


def test_a_source_with_no_readable_process_is_a_clear_error(tmp_path: Path, settings: Settings) -> None:
    from opendata.errors import SourceError

    folder = tmp_path / "jobs" / "junk"
    folder.mkdir(parents=True)
    (folder / "junk.json").write_text("id,name\n1,Ana Lopez\n", encoding="utf-8")
    path = write_ocds_job(folder, ["junk.json"], {}, name="junk")
    with pytest.raises(SourceError) as caught:
        run_job(path, settings)
    assert "no contracting process could be read" in str(caught.value)
    assert "Ana Lopez" not in str(caught.value)
    assert not (settings.paths.releases / "junk-processes").exists()


def _family_runs(settings: Settings, family: str) -> dict[str, list[dict[str, object]]]:
    client = TestClient(create_app(settings))
    found = {}
    for table in ("processes", "parties"):
        answer = client.get("/api/v1/runs", params={"dataset": f"{family}-{table}"})
        assert answer.status_code == 200, answer.text
        found[table] = answer.json()["runs"]
    return found


def test_a_family_source_failing_at_start_records_a_failed_run_per_table(
        tmp_path: Path, settings: Settings, paged_api: str) -> None:
    folder = tmp_path / "jobs" / "gone"
    folder.mkdir(parents=True)
    job = {"name": "gone", "title": "Gone", "organization": "cdmx", "license": "CC-BY-4.0",
           "source": {"type": "ocds", "url": f"{paged_api}/no-such-api", "tables": ["processes", "parties"]}}
    path = folder / "gone.yaml"
    path.write_text(yaml.safe_dump(job), encoding="utf-8")
    with pytest.raises(Exception) as caught:
        run_job(path, settings)
    assert "404" in str(caught.value)
    catalog = open_catalog(settings)  # a dataset never published shows its runs to officers only
    for table in ("processes", "parties"):
        listed = catalog.runs(f"gone-{table}")
        assert [r.state for r in listed] == ["failed"], table
        assert "the family's OCDS source failed, so no table was published" in str(listed[0].public_message)
        assert "404" in str(listed[0].error)
    assert not (settings.paths.releases / "gone-processes").exists()


def test_a_family_source_failing_mid_way_records_failed_runs_and_keeps_nothing(
        tmp_path: Path, settings: Settings, paged_api: str) -> None:
    folder = tmp_path / "jobs" / "paged"
    folder.mkdir(parents=True)
    job = {"name": "paged", "title": "Paged", "organization": "cdmx", "license": "CC-BY-4.0",
           "source": {"type": "ocds", "url": f"{paged_api}/releases?page=1", "paging": {},
                      "tables": ["processes", "parties"]},
           "privacy": {"columns": {**CONTACTS, **REVIEWED}}}
    path = folder / "paged.yaml"
    path.write_text(yaml.safe_dump(job), encoding="utf-8")
    assert run_job(path, settings).ok
    del _Pages.pages["/releases?page=2"]  # the API fails after its first page
    with pytest.raises(Exception) as caught:
        run_job(path, settings)
    assert "page=2" in str(caught.value)
    runs = _family_runs(settings, "paged")
    for table, listed in runs.items():
        assert [r["state"] for r in listed] == ["failed", "succeeded"], table
        assert "the family's OCDS source failed" in str(listed[0]["error"])
    client = TestClient(create_app(settings))
    assert client.get("/api/v1/datasets/paged-processes/releases/1/red-flags").status_code == 200  # still served
    assert not list(settings.paths.staging.rglob("page-*.json")), "downloaded pages are removed"
