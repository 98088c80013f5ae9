"""The DCAT-AP catalog under DCAT-AP 3.0.1's official SHACL shapes (pyshacl): 0 violations, with and
without the job-file facts (contact point, spatial and temporal coverage, themes), on every page."""

from __future__ import annotations

from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, SH

from catalog.dcat import DCAT
from catalog.dcat_facts import HYDRA, VCARD
from catalog.models import ContactPoint, OrganizationProfile, TemporalCoverage
from tests.web_fixtures import AIR_SCHEMA, CatalogHome, air_rows, build_catalog_home, privacy_report

SHAPES = Path(__file__).resolve().parent / "data" / "dcat-ap" / "dcat-ap-3.0.1-SHACL.ttl"
BASE = "http://testserver"


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES, format="turtle")


@pytest.fixture
def home(tmp_path: Path) -> CatalogHome:
    home = build_catalog_home(tmp_path)
    home.add_dataset(
        "stations", "environment-agency", "Environment Agency", title="Monitoring stations",
        homepage="https://example.gov/stations",
        contact_point=ContactPoint(name="Air data team", email="air@example.gov", url="https://example.gov/air"),
        spatial=["http://sws.geonames.org/5128581/"], temporal_coverage=TemporalCoverage(start="2020-01-01"),
        themes=["ENVI", "TRAN"],
        organization_profile=OrganizationProfile(contact="data@environment.example.gov",
                                                 website="https://environment.example.gov/"),
    )
    home.publish("stations", air_rows(3), AIR_SCHEMA, privacy_report("stations", 3, {}, []))
    return home


def violations(data: Graph, shapes: Graph) -> list[str]:
    _, results, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    found = []
    for result in results.subjects(SH.resultSeverity, SH.Violation):
        found.append(f"{results.value(result, SH.focusNode)} {results.value(result, SH.resultPath)}: "
                     f"{results.value(result, SH.resultMessage)}")
    return sorted(found)


def test_the_shapes_find_what_they_are_for(shapes: Graph) -> None:
    """The check is not vacuous: a distribution with an untyped media type is a violation."""
    data = Graph()
    node = URIRef("http://testserver/d")
    data.add((node, RDF.type, DCAT.Distribution))
    data.add((node, DCAT.accessURL, node))
    data.add((node, DCAT.mediaType, URIRef("https://www.iana.org/assignments/media-types/text/csv")))
    assert any("mediaType" in v for v in violations(data, shapes))


@pytest.mark.parametrize("document, fmt", [("/catalog.ttl", "turtle"), ("/catalog.jsonld", "json-ld")])
def test_the_catalog_has_no_violations(home: CatalogHome, shapes: Graph, document: str, fmt: str) -> None:
    graph = Graph().parse(data=home.client().get(document).text, format=fmt)
    assert violations(graph, shapes) == []
    series = URIRef(f"{BASE}/datasets/stations")
    contact = graph.value(series, DCAT.contactPoint)
    assert (contact, RDF.type, VCARD.Kind) in graph
    assert (contact, VCARD.hasEmail, URIRef("mailto:air@example.gov")) in graph
    assert (series, DCTERMS.spatial, URIRef("http://sws.geonames.org/5128581/")) in graph
    assert (series, DCAT.theme, URIRef("http://publications.europa.eu/resource/authority/data-theme/ENVI")) in graph
    period = graph.value(series, DCTERMS.temporal)
    assert str(graph.value(period, DCAT.startDate)) == "2020-01-01"
    agency = graph.value(series, DCTERMS.publisher)  # the organisation's profile, as its page shows it
    assert (agency, FOAF.homepage, URIRef("https://environment.example.gov/")) in graph
    assert (agency, FOAF.mbox, URIRef("mailto:data@environment.example.gov")) in graph


def test_every_page_has_no_violations_and_the_pages_link_up(home: CatalogHome, shapes: Graph) -> None:
    client = home.client()
    seen: list[str] = []
    url: str | None = f"{BASE}/catalog.ttl?page=1&page_size=1"
    while url:
        graph = Graph().parse(data=client.get(url).text, format="turtle")
        assert violations(graph, shapes) == [], url
        catalog = URIRef(f"{BASE}/catalog")
        seen += [str(s) for s in graph.objects(catalog, DCAT.dataset) if "/releases/" not in str(s)]
        view = graph.value(catalog, HYDRA.view)
        assert (view, RDF.type, HYDRA.PartialCollectionView) in graph and str(view) == url
        assert int(graph.value(catalog, HYDRA.totalItems)) == 3
        following = graph.value(view, HYDRA.next)
        url = str(following) if following is not None else None
    assert sorted(seen) == [f"{BASE}/datasets/{n}" for n in ("air-quality", "city-311-requests", "stations")]
    past = client.get("/catalog.ttl?page=9&page_size=1")
    assert past.status_code == 400 and past.json()["error"]["detail"]["parameter"] == "page"
