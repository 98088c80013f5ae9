"""What a publisher declares about a dataset, as DCAT-AP 3 (contact point, spatial and temporal coverage,
themes), and hydra paging of the catalog.

    dcat:contactPoint     a vcard:Kind: vcard:fn, vcard:hasEmail <mailto:...>, vcard:hasURL
    dct:spatial           each URI the job file gives, typed dct:Location
    dct:temporal          a dct:PeriodOfTime with dcat:startDate / dcat:endDate (xsd:date)
    dcat:theme            the EU data theme concept, typed skos:Concept in the data-theme scheme
    hydra:view            the page of the catalog a document is: a hydra:PartialCollectionView with
                          hydra:first, hydra:previous, hydra:next, hydra:last (DCAT-AP's recommended paging)

DCAT-AP's SHACL shapes check the class of every object (``sh:class``) without inference, so every node we
point at is typed here, in the graph.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from rdflib import BNode, Graph, Namespace, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD

from catalog.models import Dataset
from publishers.job_metadata import EU_THEMES

DCAT = Namespace("http://www.w3.org/ns/dcat#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
EU_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
EU_THEME_SCHEME = URIRef("http://publications.europa.eu/resource/authority/data-theme")


@dataclass(frozen=True)
class CatalogPage:
    """One page of the catalog's datasets: ``number`` of ``last`` (1-based), under ``url`` + ``?page=N``."""

    url: str
    number: int
    last: int
    size: int
    total: int

    def link(self, number: int) -> URIRef:
        return URIRef(f"{self.url}?page={number}&page_size={self.size}")


def _node(kind: str, owner: str) -> BNode:
    return BNode(f"{kind}-{hashlib.blake2b(owner.encode(), digest_size=8).hexdigest()}")


def add_declared_facts(graph: Graph, node: URIRef, dataset: Dataset, *, temporal: bool = True) -> None:
    """The publisher's contact point, places, declared period (unless ``temporal`` is off) and themes."""
    if (contact := dataset.contact_point) is not None:
        card = _node("contact", f"{node}|{contact.name}")
        graph.add((node, DCAT.contactPoint, card))
        graph.add((card, RDF.type, VCARD.Kind))
        graph.add((card, VCARD.fn, RdfLiteral(contact.name)))
        if contact.email:
            graph.add((card, VCARD.hasEmail, URIRef(f"mailto:{contact.email}")))
        if contact.url:
            graph.add((card, VCARD.hasURL, URIRef(contact.url)))
    for place in dataset.spatial:
        graph.add((node, DCTERMS.spatial, URIRef(place)))
        graph.add((URIRef(place), RDF.type, DCTERMS.Location))
    declared = dataset.temporal_coverage
    if temporal and declared is not None and (declared.start or declared.end):
        period = _node("declared-period", str(node))
        graph.add((node, DCTERMS.temporal, period))
        graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
        if declared.start:
            graph.add((period, DCAT.startDate, RdfLiteral(declared.start, datatype=XSD.date)))
        if declared.end:
            graph.add((period, DCAT.endDate, RdfLiteral(declared.end, datatype=XSD.date)))
    for code in dataset.themes:
        theme = URIRef(EU_THEME + code)
        graph.add((node, DCAT.theme, theme))
        graph.add((theme, RDF.type, SKOS.Concept))
        graph.add((theme, SKOS.inScheme, EU_THEME_SCHEME))
        graph.add((theme, SKOS.prefLabel, RdfLiteral(EU_THEMES.get(code, code), lang="en")))
    if dataset.themes:
        graph.add((EU_THEME_SCHEME, RDF.type, SKOS.ConceptScheme))
        graph.add((EU_THEME_SCHEME, DCTERMS.title, RdfLiteral("Data theme", lang="en")))


def add_paging(graph: Graph, catalog: URIRef, page: CatalogPage) -> None:
    view = page.link(page.number)
    graph.bind("hydra", HYDRA)
    graph.add((catalog, HYDRA.totalItems, RdfLiteral(page.total, datatype=XSD.nonNegativeInteger)))
    graph.add((catalog, HYDRA.view, view))
    graph.add((view, RDF.type, HYDRA.PartialCollectionView))
    graph.add((view, HYDRA.first, page.link(1)))
    graph.add((view, HYDRA.last, page.link(page.last)))
    if page.number > 1:
        graph.add((view, HYDRA.previous, page.link(page.number - 1)))
    if page.number < page.last:
        graph.add((view, HYDRA.next, page.link(page.number + 1)))
