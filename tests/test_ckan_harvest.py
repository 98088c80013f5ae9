"""CKAN in: the DataStore source read to the end (retries, total checked) and `opendata harvest ckan`
against a replayed CKAN portal (tests/ckan_replay.py) with real NYC 311 rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from opendata.cli import main
from opendata.errors import RemoteUnavailable, SourceError
from opendata.settings import Settings
from publishers.harvest.ckan import CkanReader, harvest_ckan
from publishers.job import load_job
from publishers.runner import run_job
from tests import publishers_fixtures
from tests.ckan_replay import CkanPortal, Table, package, read_311, resource
from tests.publishers_fixtures import LocalHttp, read_all, write_source_job

local_http = publishers_fixtures.local_http

ZIP_FIELDS = [{"id": "Incident Zip", "type": "text"}]


@pytest.fixture
def portal(local_http: LocalHttp) -> CkanPortal:
    _, zips = read_311("311-service-requests-sf=1.csv", limit=5000)
    labels, requests = read_311("311-service-requests.sample.csv")
    site = CkanPortal(local_http)
    site.tables["res-zips"] = Table(ZIP_FIELDS, zips)
    site.tables["res-311"] = Table(
        [{"id": "Unique Key", "type": "int4", "info": {"label": "Request id", "notes": "311 request number"}},
         *[{"id": name, "type": "text"} for name in labels[1:]]],
        [{**r, "Unique Key": int(r["Unique Key"])} for r in requests])
    csv_url = site.serve_file("/files/zips.csv", b"zip,borough\n11432,QUEENS\n10032,MANHATTAN\n")
    site.packages = [
        package("incident-zip-codes", "nyc-311", [resource("res-zips", "zips", "CSV", True)],
                title="311 incident zip codes", license_id="cc-zero", tags=["311", "zip"],
                extras={"frequency": "daily"}, notes="Zip code of each 311 request."),
        package("service-requests-2013", "nyc-311",
                [resource("res-311", "requests", "CSV", True), resource("res-pdf", "data dictionary", "PDF", False),
                 resource("res-csv", "zip boroughs", "CSV", False, url=csv_url)],
                title="311 service requests (2013 sample)", license_id="odc-odbl",
                metadata_modified="2024-03-02T08:00:00.000000"),
        package("park-benches", "parks", [resource("res-benches", "benches", "CSV", True)]),
    ]
    site.tables["res-benches"] = Table([{"id": "bench", "type": "int4"}], [{"bench": 1}])
    return site


def _datastore_job(tmp_path: Path, portal: CkanPortal, page_size: int = 1000) -> Path:
    source = {"type": "ckan_datastore", "url": portal.url, "resource_id": "res-zips", "page_size": page_size,
              "backoff_seconds": 0.01}
    return write_source_job(tmp_path, "zips", source, [{"name": "Incident Zip", "type": "string"}])


def test_a_5000_row_datastore_resource_is_read_to_the_end_with_a_server_error_retried(
    tmp_path: Path, portal: CkanPortal
) -> None:
    portal.fail_once_at_offset = {2000}
    table = read_all(_datastore_job(tmp_path, portal))
    assert table.num_rows == 5000 and table.column_names == ["Incident Zip"]  # _id left out
    _, zips = read_311("311-service-requests-sf=1.csv", limit=5000)
    assert table.column("Incident Zip").to_pylist() == [r["Incident Zip"] for r in zips]
    offsets = [q["offset"][0] for q in portal.calls("datastore_search")]
    assert offsets == ["0", "1000", "2000", "2000", "3000", "4000"]


def test_a_datastore_that_stops_short_of_its_total_is_an_error(tmp_path: Path, portal: CkanPortal) -> None:
    portal.stop_rows_at = 3000
    with pytest.raises(SourceError, match="reports 5000 rows but stopped answering after 3000; the read was truncated"):
        read_all(_datastore_job(tmp_path, portal))


def test_a_missing_resource_is_a_clear_terminal_error(tmp_path: Path, portal: CkanPortal) -> None:
    source = {"type": "ckan_datastore", "url": portal.url, "resource_id": "nope"}
    job = write_source_job(tmp_path, "nope", source, [{"name": "x", "type": "string"}])
    with pytest.raises(SourceError, match="CKAN refused nope: Not Found Error"):
        read_all(job)


def test_harvest_writes_a_reviewed_job_per_tabular_resource(tmp_path: Path, portal: CkanPortal,
                                                            settings: Settings) -> None:
    into = tmp_path / "harvested"
    report = harvest_ckan(portal.url, into, settings, organization="nyc-311", rows=1)
    assert [len(q) and q["start"][0] for q in portal.calls("package_search")] == ["0", "1"]  # paged by start
    outcomes = {(e.dataset, e.outcome) for e in report.entries}
    assert outcomes >= {("incident-zip-codes", "new"), ("service-requests-2013-requests", "new"),
                        ("service-requests-2013-zip-boroughs", "new")}
    skipped = [e for e in report.entries if e.outcome == "skipped"]
    assert [(e.source, e.why) for e in skipped] == [
        ("res-pdf", "format 'PDF' is not a table this platform reads")]
    assert not (into / "parks").exists()  # --organization

    zips = yaml.safe_load((into / "nyc-311" / "incident-zip-codes.yaml").read_text())
    assert zips["source"] == {"type": "ckan_datastore", "url": portal.url, "resource_id": "res-zips"}
    assert zips["license"] == "CC0-1.0" and zips["tags"] == ["311", "zip"]
    assert zips["organization"] == "nyc-311" and zips["organization_title"] == "NYC 311"
    assert zips["frequency"] == "daily" and zips["schedule"] == "0 3 * * *"
    assert zips["homepage"] == f"{portal.url}/dataset/incident-zip-codes"
    assert zips["privacy"]["requires_approval"] is True

    requests = load_job(into / "nyc-311" / "service-requests-2013-requests.yaml")
    fields = requests.table_schema["fields"]
    assert fields[0] == {"name": "Unique Key", "type": "integer", "title": "Request id",
                         "description": "311 request number"}
    assert requests.license == "ODbL-1.0" and requests.title == "311 service requests (2013 sample): requests"
    rules = {k: v.action for k, v in requests.privacy.columns.items()}
    labels, _ = read_311("311-service-requests.sample.csv", limit=1)
    assert list(rules) == labels  # a rule for every DataStore column
    assert rules["Incident Address"] == "drop" and rules["Agency"] == "keep"
    assert [f["name"] for f in fields] == [n for n in labels if rules[n] != "drop"]  # the published columns

    borough = load_job(into / "nyc-311" / "service-requests-2013-zip-boroughs.yaml")
    assert borough.source.type == "csv"
    assert [f["type"] for f in borough.table_schema["fields"]] == ["integer", "string"]  # inferred from a sample


def test_a_second_harvest_skips_the_unchanged_and_reports_changed_and_removed(
    tmp_path: Path, portal: CkanPortal, settings: Settings
) -> None:
    into = tmp_path / "harvested"
    harvest_ckan(portal.url, into, settings, organization="nyc-311")
    job_path = into / "nyc-311" / "incident-zip-codes.yaml"
    reviewed = yaml.safe_load(job_path.read_text())
    reviewed["privacy"]["columns"]["Incident Zip"] = "keep"  # the privacy officer's decision
    reviewed["timeout"] = 600
    job_path.write_text(yaml.safe_dump(reviewed, sort_keys=False))
    shows = len(portal.calls("package_show"))

    portal.packages[0].update(title="311 incident zips", metadata_modified="2024-04-01T00:00:00.000000")
    portal.packages[1]["resources"] = portal.packages[1]["resources"][:2]  # the CSV file left
    report = harvest_ckan(portal.url, into, settings, organization="nyc-311")
    by = {e.source: e for e in report.entries}
    assert by["res-zips"].outcome == "changed" and by["res-zips"].why == "changed: title"
    assert by["res-311"].outcome == "skipped" and by["res-311"].why.startswith("unchanged since 2024-03-02")
    assert by["res-csv"].outcome == "removed"
    assert not (into / "nyc-311" / "service-requests-2013-zip-boroughs.yaml").exists()
    assert report.cursor == "2024-04-01T00:00:00.000000"
    assert len(portal.calls("package_show")) == shows + 1  # only the changed package was read again
    after = yaml.safe_load(job_path.read_text())
    assert after["privacy"]["columns"]["Incident Zip"] == "keep" and after["timeout"] == 600
    assert after["title"] == "311 incident zips"


def test_a_harvested_job_runs_and_waits_for_approval(tmp_path: Path, portal: CkanPortal,
                                                      settings: Settings) -> None:
    into = tmp_path / "harvested"
    harvest_ckan(portal.url, into, settings, organization="nyc-311")
    result = run_job(into / "nyc-311" / "incident-zip-codes.yaml", settings)
    assert result.run.state == "awaiting-approval", result.run.error
    assert result.run.rows_in == 5000


def test_harvest_ckan_command_prints_the_report_as_json(tmp_path: Path, portal: CkanPortal,
                                                        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    into = tmp_path / "cli"
    code = main(["--home", str(settings.home), "harvest", "ckan", portal.url, "--organization", "parks",
                 "--into", str(into), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert [(e["dataset"], e["outcome"]) for e in report["entries"]] == [("park-benches", "new")]
    assert (into / "parks" / "park-benches.yaml").is_file()


def test_a_portal_that_keeps_failing_changes_nothing(tmp_path: Path, settings: Settings, local_http: LocalHttp) -> None:
    local_http.route("/api/3/action/package_search", lambda *_: (503, {}, b"busy"))
    reader = CkanReader(local_http.base, attempts=2, backoff=0.01)
    with pytest.raises(RemoteUnavailable, match="failed on package_search 2 times"):
        harvest_ckan(local_http.base, tmp_path / "x", settings, reader=reader)
    assert not (tmp_path / "x").exists()


def test_harvest_from_our_own_ckan_compatible_api_reads_a_published_release(tmp_path: Path) -> None:
    from tests.ckan_fixtures import running_server

    first = Settings(home=tmp_path / "a", pseudonym_key="test-key-not-secret")
    second = Settings(home=tmp_path / "b", pseudonym_key="test-key-not-secret")
    for settings in (first, second):
        settings.paths.ensure()
    data = tmp_path / "src" / "counts.csv"
    data.parent.mkdir()
    data.write_text("site,count\n" + "".join(f"S{i},{i * 3}\n" for i in range(2500)))
    job = write_source_job(tmp_path / "src", "cycle-counts", {"type": "csv", "path": "counts.csv"},
                           [{"name": "site", "type": "string"}, {"name": "count", "type": "integer"}],
                           license="CC-BY-4.0", tags=["cycling"])
    assert run_job(job, first).run.state == "succeeded"
    into = tmp_path / "harvested"
    with running_server(first) as base:
        report = harvest_ckan(base, into, second, organization="test-agency")
        assert [(e.dataset, e.outcome) for e in report.entries if e.outcome == "new"] == [("cycle-counts", "new")]
        harvested = load_job(into / "test-agency" / "cycle-counts.yaml")
        assert harvested.source.type == "ckan_datastore" and harvested.license == "CC-BY-4.0"
        assert [(f["name"], f["type"]) for f in harvested.table_schema["fields"]] == [
            ("site", "string"), ("count", "integer")]
        table = read_all(harvested.path)
        assert table.num_rows == 2500 and table.column("count").to_pylist()[-1] == "7497"
