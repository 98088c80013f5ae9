"""DCAT pages written from per-dataset fragments (catalog/dcat_page.py) say exactly what the reference rdflib
build (catalog.dcat.build_graph) says, in both syntaxes, on every page and after a publish; a publish rebuilds
only the fragment of the dataset it changed; the writers escape what they must."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph
from rdflib.compare import isomorphic

from api.web.open_metadata import page_records, release_facts, snapshot
from catalog.dcat import PREFIXES, build_graph
from catalog.models import ContactPoint, TemporalCoverage
from catalog.rdf_text import Blank, Lit, Triple, jsonld_document, jsonld_nodes, to_graph, turtle_blocks, turtle_document
from tests.web_fixtures import AIR_SCHEMA, CatalogHome, air_rows, build_catalog_home, privacy_report

BASE = "http://testserver"
SYNTAXES = [("/catalog.ttl", "turtle"), ("/catalog.jsonld", "json-ld")]


@pytest.fixture
def home(tmp_path: Path) -> CatalogHome:
    home = build_catalog_home(tmp_path)
    home.add_dataset(
        "stations", "environment-agency", "Environment Agency", title='Monitoring "stations" \\ Messstellen',
        homepage="https://example.gov/stations?a=1&b=2",
        contact_point=ContactPoint(name="Air data team", email="air@example.gov", url="https://example.gov/air"),
        spatial=["http://sws.geonames.org/5128581/"], temporal_coverage=TemporalCoverage(start="2020-01-01"),
        themes=["ENVI", "TRAN"], tags=["air", "Luftqualität"],
    )
    home.publish("stations", air_rows(3), AIR_SCHEMA, privacy_report("stations", 3, {}, []))
    return home


def reference(client: TestClient, path: str, page: int, size: int) -> Graph:
    """The same page built the old way: one rdflib graph of the page's snapshot."""
    app: Any = client.app
    records = page_records(app.state.catalog, f"{BASE}{path}", page, size)
    return build_graph(snapshot(release_facts(app.state.web.facts), app.state.settings, records), BASE)


@pytest.mark.parametrize("path, syntax", SYNTAXES)
def test_every_page_from_fragments_is_isomorphic_to_the_full_build(home: CatalogHome, path: str, syntax: str) -> None:
    with home.client() as client:
        for page, size in [(1, 100), (1, 2), (2, 2), (1, 1), (3, 1)]:
            response = client.get(path, params={"page": page, "page_size": size})
            assert response.status_code == 200
            served = Graph().parse(data=response.text, format=syntax)
            assert len(served) > 50
            assert isomorphic(served, reference(client, path, page, size)), (path, page, size)


def test_a_publish_rebuilds_one_fragment_and_the_page_still_matches(home: CatalogHome) -> None:
    with home.client() as client:
        first = client.get("/catalog.ttl").text
        cache: Any = client.app.state.dcat_fragments  # type: ignore[attr-defined]
        built = cache.built
        assert client.get("/catalog.ttl").text == first and cache.built == built  # every fragment kept
        home.publish("stations", air_rows(5), AIR_SCHEMA, privacy_report("stations", 5, {}, []), day=4)
        after = client.get("/catalog.ttl")
        assert cache.built == built + 1
        served = Graph().parse(data=after.text, format="turtle")
        assert f"{BASE}/datasets/stations/releases/2" in after.text
        assert isomorphic(served, reference(client, "/catalog.ttl", 1, 100))


def test_the_writers_escape_literals_and_iris() -> None:
    """Quotes, backslashes, line breaks, control characters, non-ASCII text and IRIs with characters Turtle
    cannot write raw all survive both syntaxes."""
    subject = "http://example.org/a b|c"
    triples: list[Triple] = [
        (subject, "http://purl.org/dc/terms/title", Lit('say "hi"\\\n\ttab\x01 ünïcødé', "en")),
        (subject, "http://purl.org/dc/terms/identifier", Lit("x")),
        (subject, "http://example.org/other#p-1", Lit("7", datatype="http://www.w3.org/2001/XMLSchema#integer")),
        (subject, "http://www.w3.org/ns/dcat#keyword", Lit("tag", "de")),
        (subject, "http://www.w3.org/ns/dcat#theme", Blank("theme-1")),
        (Blank("theme-1"), "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "http://example.org/T"),
        (subject, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "http://www.w3.org/ns/dcat#Dataset"),
    ]
    expected = to_graph(triples, PREFIXES)
    turtle = turtle_document(PREFIXES, [turtle_blocks(triples, PREFIXES)])
    jsonld = jsonld_document(PREFIXES, [jsonld_nodes(triples, PREFIXES)])
    assert isomorphic(Graph().parse(data=turtle, format="turtle"), expected)
    assert isomorphic(Graph().parse(data=jsonld, format="json-ld"), expected)
