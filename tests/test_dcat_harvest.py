"""DCAT in: our own /catalog.ttl harvested from a second instance round-trips titles, licences,
distributions and schedules (and the harvested job publishes there); RDF/XML and JSON-LD pages joined
by hydra:next."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.dcat import cron_frequency
from opendata.errors import SourceError
from opendata.settings import Settings
from publishers.harvest.dcat import harvest_dcat
from publishers.job import load_job
from publishers.runner import run_job
from tests import publishers_fixtures
from tests.ckan_fixtures import running_server
from tests.publishers_fixtures import DATA, LocalHttp, write_source_job

local_http = publishers_fixtures.local_http

FIELDS = [{"name": "id", "type": "integer"}, {"name": "borough", "type": "string"}]


def _instance(tmp_path: Path, name: str) -> Settings:
    settings = Settings(home=tmp_path / name, pseudonym_key="test-key-not-secret",
                        datasets_dir=tmp_path / f"{name}-jobs")
    settings.paths.ensure()
    return settings


def _publish(settings: Settings, tmp_path: Path, name: str, rows: int, **job: object) -> None:
    folder = tmp_path / "a-jobs"
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{name}.csv"
    data.write_text("id,borough\n" + "".join(f"{i},{['QUEENS', 'BRONX'][i % 2]}\n" for i in range(rows)))
    path = write_source_job(folder, name, {"type": "csv", "path": data.name}, FIELDS, **job)
    result = run_job(path, settings)
    assert result.run.state == "succeeded", result.run.error


def test_our_catalog_ttl_round_trips_through_a_dcat_harvest_on_a_second_instance(tmp_path: Path) -> None:
    first, second = _instance(tmp_path, "a"), _instance(tmp_path, "b")
    _publish(first, tmp_path, "street-trees", 30, schedule="*/15 * * * *", license="ODbL-1.0",
             title="Street trees", tags=["trees", "parks"])
    _publish(first, tmp_path, "bridge-counts", 12, schedule="0 6 * * 1", license="CC-BY-4.0", title="Bridge counts")
    _publish(first, tmp_path, "bridge-counts", 14, schedule="0 6 * * 1", license="CC-BY-4.0", title="Bridge counts")
    into = tmp_path / "harvested"
    with running_server(first) as base:
        report = harvest_dcat(f"{base}/catalog.ttl", into, second)
        assert sorted((e.dataset, e.outcome) for e in report.entries) == [
            ("bridge-counts", "new"), ("street-trees", "new")]
        trees = load_job(into / "test-agency" / "street-trees.yaml")
        counts = load_job(into / "test-agency" / "bridge-counts.yaml")
        assert (trees.title, trees.license, trees.tags) == ("Street trees", "ODbL-1.0", ["parks", "trees"])
        assert (counts.title, counts.license) == ("Bridge counts", "CC-BY-4.0")
        assert cron_frequency(trees.schedule) == cron_frequency("*/15 * * * *") == "15MIN"
        assert cron_frequency(counts.schedule) == "WEEKLY"
        assert trees.source.type == "parquet"
        assert str(getattr(counts.source, "url", "")) == f"{base}/api/v1/datasets/bridge-counts/releases/2/data.parquet"
        assert [f["name"] for f in counts.table_schema["fields"]] == ["id", "borough"]
        assert counts.table_schema["fields"][0]["type"] == "integer"
        assert counts.privacy.requires_approval

        result = run_job(into / "test-agency" / "bridge-counts.yaml", second)  # the distribution is readable
        assert result.run.state == "awaiting-approval", result.run.error
        assert result.run.rows_in == 14

        again = harvest_dcat(f"{base}/catalog.ttl", into, second)
        assert {e.outcome for e in again.entries} == {"skipped"}


def _paged_catalog(local_http: LocalHttp) -> str:
    """Two pages in two syntaxes, per the DCAT-AP paging guidance: hydra:PartialCollectionView with next."""
    base = local_http.base
    csv_url = base + "/files/stops.csv"
    local_http.route("/files/stops.csv", lambda *_: (200, {"Content-Type": "text/csv"},
                                                     b"stop_id,stop_name\n1,Main St\n2,Elm St\n"))
    page1 = f"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcat="http://www.w3.org/ns/dcat#"
         xmlns:dct="http://purl.org/dc/terms/" xmlns:foaf="http://xmlns.com/foaf/0.1/"
         xmlns:hydra="http://www.w3.org/ns/hydra/core#">
  <dcat:Catalog rdf:about="{base}/catalog"><dcat:dataset rdf:resource="{base}/ds/stops"/></dcat:Catalog>
  <hydra:PartialCollectionView rdf:about="{base}/page1.rdf"><hydra:next rdf:resource="{base}/page2.jsonld"/>
  </hydra:PartialCollectionView>
  <dcat:Dataset rdf:about="{base}/ds/stops">
    <dct:title xml:lang="en">Transit stops</dct:title>
    <dct:license rdf:resource="http://publications.europa.eu/resource/authority/licence/CC_BY_4_0"/>
    <dct:accrualPeriodicity rdf:resource="http://publications.europa.eu/resource/authority/frequency/MONTHLY"/>
    <dct:publisher><foaf:Agent><foaf:name>Metro Transit</foaf:name></foaf:Agent></dct:publisher>
    <dcat:distribution><dcat:Distribution>
      <dcat:downloadURL rdf:resource="{csv_url}"/>
      <dcat:mediaType rdf:resource="https://www.iana.org/assignments/media-types/text/csv"/>
    </dcat:Distribution></dcat:distribution>
  </dcat:Dataset>
</rdf:RDF>"""
    page2 = json.dumps({
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/"},
        "@graph": [{"@id": f"{base}/ds/manual", "@type": "dcat:Dataset", "dct:title": "Operator manual",
                    "dcat:distribution": {"@type": "dcat:Distribution",
                                          "dcat:downloadURL": {"@id": f"{base}/manual.pdf"},
                                          "dcat:mediaType": "application/pdf"}}]})
    local_http.route("/page1.rdf", lambda *_: (200, {"Content-Type": "application/rdf+xml"}, page1.encode()))
    local_http.route("/page2.jsonld", lambda *_: (200, {"Content-Type": "application/ld+json"}, page2.encode()))
    return base + "/page1.rdf"


def test_hydra_pages_in_rdf_xml_and_json_ld_are_followed(tmp_path: Path, local_http: LocalHttp,
                                                         settings: Settings) -> None:
    report = harvest_dcat(_paged_catalog(local_http), tmp_path / "jobs", settings)
    by = {e.source.rsplit("/", 1)[-1]: e for e in report.entries}
    assert by["stops"].outcome == "new" and by["manual"].outcome == "skipped"
    assert by["manual"].why == "no distribution in Parquet, CSV or JSON with a download URL"
    job = load_job(tmp_path / "jobs" / "metro-transit" / "transit-stops.yaml")
    assert (job.license, job.schedule, job.organization_title) == ("CC-BY-4.0", "0 3 1 * *", "Metro Transit")
    assert job.source.type == "csv" and [f["type"] for f in job.table_schema["fields"]] == ["integer", "string"]


def test_a_document_that_is_not_rdf_is_a_clear_error(tmp_path: Path, local_http: LocalHttp,
                                                     settings: Settings) -> None:
    local_http.route("/catalog.ttl", lambda *_: (200, {"Content-Type": "text/turtle"}, b"<html>not turtle"))
    with pytest.raises(SourceError, match="not a DCAT catalog in turtle"):
        harvest_dcat(local_http.base + "/catalog.ttl", tmp_path / "jobs", settings)


def test_a_geojson_distribution_becomes_one_column_per_property_and_a_geojson_geometry(
    tmp_path: Path, local_http: LocalHttp, settings: Settings
) -> None:
    body = (DATA / "nws_api" / "alerts_active_zone_second.json").read_bytes()
    local_http.route("/alerts/active", lambda *_: (200, {"Content-Type": "application/geo+json"}, body))
    turtle = f"""@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
<{local_http.base}/ds/alerts> a dcat:Dataset ; dct:title "Active alerts"@en ;
  dct:license <https://spdx.org/licenses/CC0-1.0> ;
  dcat:distribution [ a dcat:Distribution ; dcat:accessURL <{local_http.base}/alerts/active> ;
                      dcat:mediaType <https://www.iana.org/assignments/media-types/application/geo+json> ] ."""
    local_http.route("/catalog.ttl", lambda *_: (200, {"Content-Type": "text/turtle"}, turtle.encode()))
    harvest_dcat(local_http.base + "/catalog.ttl", tmp_path / "jobs", settings)
    job = load_job(next((tmp_path / "jobs").rglob("active-alerts.yaml")))
    assert job.license == "CC0-1.0" and job.source.type == "http_json"
    types = {f["name"]: f["type"] for f in job.table_schema["fields"]}
    assert types["geometry"] == "geojson" and types["onset"] == "datetime"
    assert {"event", "severity", "areadesc", "expires"} <= set(types)
    result = run_job(job.path, settings)
    assert result.run.state == "awaiting-approval", result.run.error
    assert result.run.rows_in == 2


def test_every_eu_frequency_maps_to_a_schedule_that_maps_back() -> None:
    from publishers.harvest.vocabulary import FREQUENCY_CRON, cron_for, spdx_licence

    assert {code: cron_frequency(cron) for code, cron in FREQUENCY_CRON.items()} == {c: c for c in FREQUENCY_CRON}
    assert cron_for("R/P1W") == cron_for("weekly") == cron_for(
        "http://publications.europa.eu/resource/authority/frequency/WEEKLY") == "0 3 * * 1"
    assert [spdx_licence(x) for x in ("cc-by", "https://spdx.org/licenses/MIT",
                                      "http://publications.europa.eu/resource/authority/licence/CC0", None)] == [
        "CC-BY-4.0", "MIT", "CC0-1.0", "LicenseRef-not-specified"]
