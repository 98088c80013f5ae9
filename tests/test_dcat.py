"""The DCAT-AP 3 catalog: parsed with rdflib, it names every published release, and its links work."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, RDF

from catalog.dcat import DCAT, EU_FREQUENCY, SPDX, cron_frequency
from catalog.dcat_facts import HYDRA
from tests.web_fixtures import CatalogHome, build_catalog_home

BASE = "http://testserver"


def literal(graph: Graph, subject: Any, predicate: URIRef) -> Any:
    value = graph.value(subject, predicate)
    assert isinstance(value, Literal), (subject, predicate)
    return value.toPython()


@pytest.fixture
def home(tmp_path: Path) -> CatalogHome:
    return build_catalog_home(tmp_path)


@pytest.fixture
def graphs(home: CatalogHome) -> tuple[Graph, Graph]:
    client = home.client()
    turtle = client.get("/catalog.ttl")
    jsonld = client.get("/catalog.jsonld")
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    return Graph().parse(data=turtle.text, format="turtle"), Graph().parse(data=jsonld.text, format="json-ld")


def without_paging(graph: Graph) -> Graph:
    """The graph without its hydra page links, which name the page in the document's own format."""
    views = set(graph.subjects(RDF.type, HYDRA.PartialCollectionView))
    kept = Graph()
    for triple in graph:
        if triple[0] not in views and not str(triple[1]).startswith(str(HYDRA)):
            kept.add(triple)
    return kept


def test_both_serialisations_parse_to_the_same_graph(graphs: tuple[Graph, Graph]) -> None:
    turtle, jsonld = graphs
    assert len(turtle) > 100
    assert isomorphic(without_paging(turtle), without_paging(jsonld))


def test_every_published_release_is_a_dataset_in_its_series(home: CatalogHome, graphs: tuple[Graph, Graph]) -> None:
    graph = graphs[0]
    catalog = URIRef(f"{BASE}/catalog")
    assert (catalog, RDF.type, DCAT.Catalog) in graph
    published = {(r.dataset, r.number) for r in home.catalog.all_releases()}
    assert published == {("city-311-requests", 1), ("city-311-requests", 2), ("air-quality", 1)}
    members = set(graph.subjects(DCAT.inSeries, None))
    assert members == {URIRef(f"{BASE}/datasets/{name}/releases/{number}") for name, number in published}
    for name, number in published:
        node = URIRef(f"{BASE}/datasets/{name}/releases/{number}")
        series = URIRef(f"{BASE}/datasets/{name}")
        assert (node, RDF.type, DCAT.Dataset) in graph
        assert (node, DCAT.inSeries, series) in graph
        assert (series, RDF.type, DCAT.DatasetSeries) in graph
        assert (catalog, DCAT.dataset, node) in graph
        assert str(graph.value(node, DCAT.version)) == str(number)
    # the release awaiting approval is not public, and neither is its dataset
    assert not any("bus-stops" in str(s) for s in graph.subjects())
    series = URIRef(f"{BASE}/datasets/city-311-requests")
    assert graph.value(series, DCAT.last) == URIRef(f"{series}/releases/2")
    assert graph.value(URIRef(f"{series}/releases/2"), DCAT.prev) == URIRef(f"{series}/releases/1")


def test_publisher_licence_frequency_and_temporal_coverage(graphs: tuple[Graph, Graph]) -> None:
    graph = graphs[0]
    release = URIRef(f"{BASE}/datasets/air-quality/releases/1")
    publisher = graph.value(release, DCTERMS.publisher)
    assert str(graph.value(publisher, FOAF.name)) == "Environment Agency"
    assert str(graph.value(release, DCTERMS.license)).endswith("/licence/CC0")
    assert graph.value(release, DCTERMS.accrualPeriodicity) == URIRef(EU_FREQUENCY + "HOURLY")
    period = graph.value(release, DCTERMS.temporal)
    assert literal(graph, period, DCAT.startDate) == datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
    assert literal(graph, period, DCAT.endDate) == datetime(2024, 5, 3, 23, 0, tzinfo=UTC)
    city = URIRef(f"{BASE}/datasets/city-311-requests/releases/1")
    city_period = graph.value(city, DCTERMS.temporal)
    assert literal(graph, city_period, DCAT.startDate) == date(2024, 3, 1)
    assert literal(graph, city_period, DCAT.endDate) == date(2024, 3, 20)
    assert graph.value(city, DCTERMS.accrualPeriodicity) == URIRef(EU_FREQUENCY + "DAILY")
    catalog_publisher = graph.value(URIRef(f"{BASE}/catalog"), DCTERMS.publisher)
    assert str(graph.value(catalog_publisher, FOAF.name)) == "Open data platform"


def test_distributions_download_and_match_their_checksums(home: CatalogHome, graphs: tuple[Graph, Graph]) -> None:
    graph = graphs[0]
    client = home.client()
    release = URIRef(f"{BASE}/datasets/city-311-requests/releases/2")
    distributions = list(graph.objects(release, DCAT.distribution))
    formats = {str(graph.value(d, DCTERMS.format)).rsplit("/", 1)[-1] for d in distributions}
    assert formats == {"PARQUET", "CSV", "JSON"}
    assert len(distributions) == 5  # Parquet, CSV export, datapackage.json, privacy and validation reports
    for distribution in distributions:
        url = str(graph.value(distribution, DCAT.downloadURL))
        response = client.get(url)
        assert response.status_code == 200, url
        checksum = graph.value(distribution, SPDX.checksum)
        if checksum is not None and url.endswith("data.parquet"):
            assert str(graph.value(checksum, SPDX.checksumValue)) == hashlib.sha256(response.content).hexdigest()
            assert int(graph.value(distribution, DCAT.byteSize)) == len(response.content)


def test_public_url_setting_sets_the_uris(tmp_path: Path) -> None:
    home = build_catalog_home(tmp_path, public_url="https://data.example.gov/")
    graph = Graph().parse(data=home.client().get("/catalog.ttl").text, format="turtle")
    assert (URIRef("https://data.example.gov/datasets/air-quality/releases/1"), RDF.type, DCAT.Dataset) in graph


@pytest.mark.parametrize(
    ("schedule", "code"),
    [
        ("*/15 * * * *", "15MIN"), ("*/5 * * * *", "5MIN"), ("0 * * * *", "HOURLY"), ("0 */2 * * *", "BIHOURLY"),
        ("0 6 * * *", "DAILY"), ("30 4 * * *", "DAILY"), ("0 6,18 * * *", "DAILY_2"), ("0 6 * * 1", "WEEKLY"),
        ("0 6 1 * *", "MONTHLY"), ("0 6 1 */3 *", "QUARTERLY"), ("0 6 1 1 *", "ANNUAL"), ("0 6 1-7 * 1", "IRREG"),
        (None, None),
    ],
)
def test_update_frequency_from_the_cron_schedule(schedule: str | None, code: str | None) -> None:
    assert cron_frequency(schedule) == code


def test_a_release_whose_folder_leaves_the_releases_folder_costs_its_facts_not_the_page(home: CatalogHome) -> None:
    # A release folder replaced by a symlink to elsewhere (a bad restore, a hand edit) is refused by the
    # storage; the DCAT page still answers, with every release, and without that release's facts.
    before = Graph().parse(data=home.client().get("/catalog.ttl").text, format="turtle")
    releases = home.settings.paths.releases
    victim = next(p for p in sorted(releases.glob("*/*")) if p.is_dir())
    outside = home.settings.paths.root / "outside-the-releases"
    victim.rename(outside)
    victim.symlink_to(outside, target_is_directory=True)
    client = home.client()
    for path in ("/catalog.ttl", "/catalog.jsonld"):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text[:300])
    after = Graph().parse(data=client.get("/catalog.ttl").text, format="turtle")
    assert set(after.subjects(RDF.type, DCAT.Dataset)) == set(before.subjects(RDF.type, DCAT.Dataset))
    assert client.get("/catalog").status_code == 200  # its card loses its coverage, the page stays
    rows = client.get(f"/api/v1/datasets/{victim.parent.name}/rows")
    assert rows.status_code == 503 and rows.json()["error"]["type"] == "release-unavailable"
    assert str(outside) not in rows.text
