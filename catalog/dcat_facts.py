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

from rdflib import Namespace
from rdflib.namespace import DCTERMS, SKOS, XSD

from catalog.models import Dataset
from catalog.rdf_text import RDF_TYPE, Blank, Lit, Triple, Vocab
from publishers.job_metadata import EU_THEMES

DCAT = Namespace("http://www.w3.org/ns/dcat#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
EU_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
EU_THEME_SCHEME = "http://publications.europa.eu/resource/authority/data-theme"
_D, _DCT, _V, _H, _SKOS = Vocab(DCAT), Vocab(DCTERMS), Vocab(VCARD), Vocab(HYDRA), Vocab(SKOS)
_XSD_DATE = f"{XSD}date"
_XSD_COUNT = f"{XSD}nonNegativeInteger"


@dataclass(frozen=True)
class CatalogPage:
    """One page of the catalog's datasets: ``number`` of ``last`` (1-based), under ``url`` + ``?page=N``."""

    url: str
    number: int
    last: int
    size: int
    total: int

    def link(self, number: int) -> str:
        return f"{self.url}?page={number}&page_size={self.size}"


def stable_node(kind: str, owner: str) -> Blank:
    """A blank node named after what owns it, so every replica writes the same document."""
    return Blank(f"{kind}-{hashlib.blake2b(owner.encode(), digest_size=8).hexdigest()}")


def declared_facts(out: list[Triple], node: str, dataset: Dataset, *, temporal: bool = True) -> None:
    """The publisher's contact point, places, declared period (unless ``temporal`` is off) and themes."""
    if (contact := dataset.contact_point) is not None:
        card = stable_node("contact", f"{node}|{contact.name}")
        out += [(node, _D.contactPoint, card), (card, RDF_TYPE, _V.Kind), (card, _V.fn, Lit(contact.name))]
        if contact.email:
            out.append((card, _V.hasEmail, f"mailto:{contact.email}"))
        if contact.url:
            out.append((card, _V.hasURL, contact.url))
    for place in dataset.spatial:
        out += [(node, _DCT.spatial, place), (place, RDF_TYPE, _DCT.Location)]
    declared = dataset.temporal_coverage
    if temporal and declared is not None and (declared.start or declared.end):
        period = stable_node("declared-period", node)
        out += [(node, _DCT.temporal, period), (period, RDF_TYPE, _DCT.PeriodOfTime)]
        if declared.start:
            out.append((period, _D.startDate, Lit(declared.start, datatype=_XSD_DATE)))
        if declared.end:
            out.append((period, _D.endDate, Lit(declared.end, datatype=_XSD_DATE)))
    for code in dataset.themes:
        theme = EU_THEME + code
        out += [(node, _D.theme, theme), (theme, RDF_TYPE, _SKOS.Concept), (theme, _SKOS.inScheme, EU_THEME_SCHEME),
                (theme, _SKOS.prefLabel, Lit(EU_THEMES.get(code, code), "en"))]
    if dataset.themes:
        out += [(EU_THEME_SCHEME, RDF_TYPE, _SKOS.ConceptScheme),
                (EU_THEME_SCHEME, _DCT.title, Lit("Data theme", "en"))]


def paging_triples(catalog: str, page: CatalogPage) -> list[Triple]:
    view = page.link(page.number)
    out: list[Triple] = [
        (catalog, _H.totalItems, Lit(str(page.total), datatype=_XSD_COUNT)),
        (catalog, _H.view, view),
        (view, RDF_TYPE, _H.PartialCollectionView),
        (view, _H.first, page.link(1)),
        (view, _H.last, page.link(page.last)),
    ]
    if page.number > 1:
        out.append((view, _H.previous, page.link(page.number - 1)))
    if page.number < page.last:
        out.append((view, _H.next, page.link(page.number + 1)))
    return out
