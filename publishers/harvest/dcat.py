"""Harvest a DCAT / DCAT-AP catalog: JSON-LD, Turtle or RDF/XML (rdflib), paged with hydra
(``hydra:next`` on the page's view or collection, followed to the last page).

Each ``dcat:Dataset`` outside a series is one job; a ``dcat:DatasetSeries`` (how this platform
publishes a dataset's numbered releases) is one job whose metadata is the series' and whose source is
the distribution of its last release (``dcat:last``, else the newest ``dct:issued`` member). The source
is the first distribution that is a table: Parquet, then CSV, then JSON (``dcat:downloadURL`` before
``dcat:accessURL``). Licences become SPDX ids, ``dct:accrualPeriodicity`` a cron schedule.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS
from rdflib.term import Node

from opendata.errors import SourceError, SourceUnavailable
from opendata.settings import Settings
from publishers.harvest.model import Candidate, HarvestReport
from publishers.harvest.vocabulary import cron_for, frequency_code, slug, spdx_licence
from publishers.harvest.write import Harvest
from publishers.sources.fetch import check_response, transient_http_error

DCAT = Namespace("http://www.w3.org/ns/dcat#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
FORMATS = {"text/turtle": "turtle", "application/x-turtle": "turtle", "application/ld+json": "json-ld",
           "application/json": "json-ld", "application/rdf+xml": "xml", "application/xml": "xml",
           "text/xml": "xml", "application/n-triples": "nt"}
SUFFIXES = {".ttl": "turtle", ".jsonld": "json-ld", ".json": "json-ld", ".rdf": "xml", ".xml": "xml", ".nt": "nt"}
#: What a distribution's media type or format ends with -> (our source type, preference: lower first).
TABLES = {"parquet": ("parquet", 0), "csv": ("csv", 1), "geo+json": ("http_json", 3), "geojson": ("http_json", 3),
          "json": ("http_json", 2)}
MAX_PAGES = 1000


def fetch_catalog(url: str, attempts: int = 3, timeout: float = 60.0) -> Graph:
    """Every page of the catalog, merged into one graph."""
    graph, page, seen = Graph(), url, set[str]()
    with httpx.Client(timeout=timeout, follow_redirects=True, headers={
            "Accept": "text/turtle, application/ld+json;q=0.9, application/rdf+xml;q=0.8"}) as client:
        while page and page not in seen and len(seen) < MAX_PAGES:
            seen.add(page)
            part = _page(client, page, attempts)
            graph += part
            following = [o for o in part.objects(None, HYDRA.next) if isinstance(o, URIRef)]
            page = str(following[0]) if following else ""
    return graph


def _page(client: httpx.Client, url: str, attempts: int) -> Graph:
    wait = 1.0
    for attempt in range(1, attempts + 1):
        try:
            try:
                response = client.get(url)
            except httpx.HTTPError as exc:
                raise transient_http_error(exc, url) from None
            check_response(response, url)
            break
        except SourceUnavailable:
            if attempt == attempts:
                raise
            time.sleep(wait)
            wait *= 2
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = FORMATS.get(kind) or SUFFIXES.get(Path(httpx.URL(url).path).suffix.lower())
    graph = Graph()
    for candidate in [fmt] if fmt else ["turtle", "json-ld", "xml"]:
        try:
            return graph.parse(data=response.content, format=candidate, publicID=url)
        except Exception as exc:  # rdflib's parsers raise many kinds  # noqa: BLE001
            problem = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    raise SourceError(f"{url}: not a DCAT catalog in {fmt or 'Turtle, JSON-LD or RDF/XML'} ({problem})")


def _text(graph: Graph, node: Node, predicate: URIRef) -> str | None:
    values = [str(v) for v in graph.objects(node, predicate)]
    english = [str(v) for v in graph.objects(node, predicate) if getattr(v, "language", None) in ("en", None)]
    found = english or values
    return found[0] if found else None


def _table_distribution(graph: Graph, dataset: Node) -> tuple[str, str] | None:
    found: list[tuple[int, str, str]] = []
    for distribution in graph.objects(dataset, DCAT.distribution):
        labels = [str(v).lower() for p in (DCAT.mediaType, DCTERMS.format) for v in graph.objects(distribution, p)]
        url = _text(graph, distribution, DCAT.downloadURL) or _text(graph, distribution, DCAT.accessURL)
        if not url or not url.startswith(("http://", "https://")):
            continue
        for ending, (kind, rank) in TABLES.items():
            if any(label.rstrip("/").endswith(("/" + ending, "." + ending, ending)) for label in labels):
                found.append((rank, kind, url))
                break
    return min(found)[1:] if found else None


def _release_of(graph: Graph, series: Node) -> Node | None:
    last = next(iter(graph.objects(series, DCAT.last)), None)
    if last is not None:
        return last
    members = list(graph.subjects(DCAT.inSeries, series))
    return max(members, key=lambda m: str(_text(graph, m, DCTERMS.issued) or "")) if members else None


def candidates(graph: Graph, origin: str) -> list[tuple[str, Candidate | None, str]]:
    """(key, candidate or None, why not) for every dataset or series of the catalog."""
    out: list[tuple[str, Candidate | None, str]] = []
    series = set(graph.subjects(RDF.type, DCAT.DatasetSeries))
    datasets = [d for d in graph.subjects(RDF.type, DCAT.Dataset)
                if d not in series and not set(graph.objects(d, DCAT.inSeries))]  # a series is typed Dataset too
    for node in sorted(series, key=str) + sorted(datasets, key=str):
        data = _release_of(graph, node) if node in series else node
        table = _table_distribution(graph, data) if data is not None else None
        if table is None:
            out.append((str(node), None, "no distribution in Parquet, CSV or JSON with a download URL"))
            continue
        out.append((str(node), _candidate(graph, node, table, origin), ""))
    return out


def _candidate(graph: Graph, node: Node, table: tuple[str, str], origin: str) -> Candidate:
    kind, url = table
    title = _text(graph, node, DCTERMS.title) or str(node)
    identifier = _text(graph, node, DCTERMS.identifier)
    publisher = next(iter(graph.objects(node, DCTERMS.publisher)), None)
    publisher_name = (_text(graph, publisher, FOAF.name) or _text(graph, publisher, RDFS.label)) if publisher else None
    licence = next(iter(graph.objects(node, DCTERMS.license)), None)
    if licence is None:
        distributions = list(graph.objects(node, DCAT.distribution))
        licence = next((lic for d in distributions for lic in graph.objects(d, DCTERMS.license)), None)
    frequency = _text(graph, node, DCTERMS.accrualPeriodicity)
    homepage = _text(graph, node, DCAT.landingPage) or _text(graph, node, FOAF.page)
    source: dict[str, Any] = {"type": kind, "url": url}
    return Candidate(
        key=str(node), name=slug(identifier if identifier and "/" not in identifier else title),
        title=title, description=_text(graph, node, DCTERMS.description) or "",
        organization=slug(publisher_name or httpx.URL(origin).host or "dcat"), organization_title=publisher_name,
        license=spdx_licence(str(licence) if licence else None, _text(graph, licence, RDFS.label) if licence else None),
        tags=sorted({str(k) for k in graph.objects(node, DCAT.keyword)}), homepage=homepage,
        frequency=frequency_code(frequency), schedule=cron_for(frequency), source=source,
        modified=_text(graph, node, DCTERMS.modified),
    )


def harvest_dcat(url: str, into: Path, settings: Settings) -> HarvestReport:
    graph = fetch_catalog(url)
    harvest = Harvest(url, into, settings)
    for key, candidate, why in candidates(graph, url):
        if candidate is None:
            harvest.skip(key, why)
        elif harvest.unchanged(key, candidate.modified):
            harvest.keep(key)
        else:
            harvest.write(candidate)
    return harvest.finish()
