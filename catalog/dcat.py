"""The catalog as DCAT-AP 3: JSON-LD and Turtle, built as one RDF graph with rdflib.

    dcat:Catalog            the platform (dcat:dataset -> each series)
    dcat:DatasetSeries      one dataset of ours: title, description, publisher, licence, keywords,
                            update frequency (from the job's cron schedule), dcat:first / dcat:last
    dcat:Dataset            one published release: dcat:inSeries, dcat:version, dct:issued, temporal
                            coverage, dcat:prev (the release before), and its distributions
    dcat:Distribution       Parquet file, CSV export, datapackage.json, privacy and validation reports:
                            access/download URL, format, media type, byte size (Parquet), spdx checksum
    foaf:Organization       the publishing agency (dct:publisher)

The publisher's declared contact point, places, period and themes, and hydra paging, are added by
``catalog/dcat_facts.py``. The graph has 0 violations under DCAT-AP 3.0.1's official SHACL shapes
(``tests/test_dcat_shacl.py``): the shapes check each object's class without inference, so every node
pointed at (formats, media types, frequencies, standards, pages, checksum algorithms) is typed here.

URIs are the platform's own pages and API paths under ``base`` (the server's public URL), so each one
dereferences to something a person or a harvester can read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rdflib import BNode, Graph, Namespace, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, XSD
from rdflib.plugins.serializers import jsonld as _jsonld  # noqa: F401  (loaded once, up front)

from catalog.dcat_facts import HYDRA, VCARD, CatalogPage, add_declared_facts, add_paging
from catalog.models import Dataset, Organization, Release

# rdflib's DCAT namespace is DCAT 2 and closed; DCAT 3 adds DatasetSeries, inSeries, version, first, last.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
EU_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_LICENCE = "http://publications.europa.eu/resource/authority/licence/"
IANA = "https://www.iana.org/assignments/media-types/"
DCAT_AP_3 = "http://data.europa.eu/r5r/"
DATA_PACKAGE_2 = "https://datapackage.org/profiles/2.0/datapackage.json"

#: SPDX licence id -> EU licence authority code; others are named by their SPDX URL.
EU_LICENCES = {
    "CC-BY-4.0": "CC_BY_4_0", "CC-BY-SA-4.0": "CC_BY_SA_4_0", "CC0-1.0": "CC0", "Apache-2.0": "APACHE_2_0",
    "ODbL-1.0": "ODBL_1_0", "OGL-UK-3.0": "OGL_3_0", "MIT": "MIT", "CC-BY-3.0": "CC_BY_3_0",
}

CONTEXT = {
    "dcat": str(DCAT), "dct": str(DCTERMS), "foaf": str(FOAF), "spdx": str(SPDX), "xsd": str(XSD),
    "rdfs": str(RDFS), "adms": str(ADMS), "vcard": str(VCARD), "hydra": str(HYDRA),
    "skos": "http://www.w3.org/2004/02/skos/core#",
}


@dataclass(frozen=True)
class Coverage:
    """Temporal coverage of a release: the first and last value of its first date or datetime column."""

    start: str
    end: str
    kind: Literal["date", "datetime"] = "date"


@dataclass(frozen=True)
class CatalogSnapshot:
    """What the DCAT graph is built from: published datasets, their releases, and their coverage."""

    title: str
    description: str
    publisher: str
    datasets: list[Dataset]
    organizations: list[Organization]
    releases: Mapping[str, list[Release]]
    coverage: Mapping[tuple[str, int], Coverage]
    #: (dataset, release, file name) -> bytes
    sizes: Mapping[tuple[str, int, str], int] = field(default_factory=dict)
    #: which page of the catalog's datasets this is (hydra paging), when it is paged
    page: CatalogPage | None = None


def cron_frequency(schedule: str | None) -> str | None:
    """The EU frequency authority code for a five-field cron schedule, or None when there is none."""
    if not schedule:
        return None
    parts = schedule.split()
    if len(parts) != 5:
        return "IRREG"
    minute, hour, day, month, weekday = parts
    if minute == "*" and hour == "*":
        return "1MIN"
    if minute.startswith("*/") and hour == "*" and day == month == weekday == "*":
        step = _int(minute[2:])
        for code, minutes in (("1MIN", 1), ("5MIN", 5), ("10MIN", 10), ("15MIN", 15), ("30MIN", 30)):
            if step == minutes:
                return code
        return "HOURLY" if step and step > 30 else "CONT"
    if not _fixed(minute):
        return "IRREG"
    if hour == "*" and day == month == weekday == "*":
        return "HOURLY"
    if hour.startswith("*/") and day == month == weekday == "*":
        return {2: "BIHOURLY", 3: "TRIHOURLY", 12: "12HRS"}.get(_int(hour[2:]) or 0, "IRREG")
    if not (_fixed(hour) or "," in hour):
        return "IRREG"
    if "," in hour:
        return "DAILY_2" if hour.count(",") == 1 and day == month == weekday == "*" else "IRREG"
    if day == month == "*":
        if weekday == "*":
            return "DAILY"
        times = len(weekday.split(","))
        return {1: "WEEKLY", 2: "WEEKLY_2", 3: "WEEKLY_3"}.get(times, "IRREG")
    if _fixed(day) and weekday == "*":
        if month == "*":
            return "MONTHLY"
        if month.startswith("*/"):
            return {2: "BIMONTHLY", 3: "QUARTERLY", 6: "ANNUAL_2"}.get(_int(month[2:]) or 0, "IRREG")
        if _fixed(month):
            return "ANNUAL"
    return "IRREG"


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _fixed(field: str) -> bool:
    return field.isdigit()


def licence_uri(licence: str) -> URIRef:
    code = EU_LICENCES.get(licence)
    return URIRef(EU_LICENCE + code) if code else URIRef(f"https://spdx.org/licenses/{licence}")


class DcatLinks:
    """The platform's URIs for catalog things, under one base URL."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def catalog(self) -> URIRef:
        return URIRef(f"{self.base}/catalog")

    def series(self, name: str) -> URIRef:
        return URIRef(f"{self.base}/datasets/{name}")

    def release(self, name: str, number: int) -> URIRef:
        return URIRef(f"{self.base}/datasets/{name}/releases/{number}")

    def organization(self, name: str) -> URIRef:
        return URIRef(f"{self.base}/organizations/{name}")

    def api_release(self, name: str, number: int) -> str:
        return f"{self.base}/api/v1/datasets/{name}/releases/{number}"

    def csv_export(self, name: str, number: int) -> str:
        """The whole release as CSV (every row), not a page of rows."""
        return f"{self.base}/api/v1/datasets/{name}/export.csv?release={number}"


#: Release file -> (title, EU file type, media type, conforms to).
DISTRIBUTIONS: dict[str, tuple[str, str, str, str | None]] = {
    "data.parquet": ("Data (Parquet)", "PARQUET", "application/vnd.apache.parquet", None),
    "datapackage.json": ("Data Package descriptor", "JSON", "application/json", DATA_PACKAGE_2),
    "privacy-report.json": ("Privacy report", "JSON", "application/json", None),
    "validation-report.json": ("Validation report", "JSON", "application/json", None),
}
_FILE_ROUTES = {
    "data.parquet": "data.parquet", "datapackage.json": "datapackage.json",
    "privacy-report.json": "privacy-report", "validation-report.json": "validation-report",
}


def build_graph(snapshot: CatalogSnapshot, base: str) -> Graph:
    links = DcatLinks(base)
    graph = Graph()
    for prefix, uri in CONTEXT.items():
        graph.bind(prefix, Namespace(uri))
    catalog = links.catalog()
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, RdfLiteral(snapshot.title, lang="en")))
    graph.add((catalog, DCTERMS.description, RdfLiteral(snapshot.description, lang="en")))
    graph.add((catalog, FOAF.homepage, catalog))
    graph.add((catalog, RDF.type, FOAF.Document))
    _standard(graph, catalog, DCAT_AP_3)
    if snapshot.page is not None:
        add_paging(graph, catalog, snapshot.page)
    titles = {o.name: o.title for o in snapshot.organizations}
    for organization in sorted({d.organization for d in snapshot.datasets}):
        agent = links.organization(organization)
        graph.add((agent, RDF.type, FOAF.Organization))
        graph.add((agent, RDF.type, FOAF.Agent))
        graph.add((agent, FOAF.name, RdfLiteral(titles.get(organization, organization), lang="en")))
    operator = URIRef(f"{links.base}/catalog#publisher")
    graph.add((catalog, DCTERMS.publisher, operator))
    graph.add((operator, RDF.type, FOAF.Agent))
    graph.add((operator, FOAF.name, RdfLiteral(snapshot.publisher, lang="en")))
    for dataset in snapshot.datasets:
        releases = sorted(snapshot.releases.get(dataset.name, []), key=lambda r: r.number)
        if not releases:
            continue
        series = _add_series(graph, links, dataset, releases)
        graph.add((catalog, DCAT.dataset, series))
        previous: URIRef | None = None
        for release in releases:
            node = _add_release(graph, links, dataset, release, snapshot)
            graph.add((catalog, DCAT.dataset, node))
            if previous is not None:
                graph.add((node, DCAT.prev, previous))
            previous = node
    return graph


def _add_common(graph: Graph, node: URIRef, dataset: Dataset, links: DcatLinks) -> None:
    graph.add((node, DCTERMS.description, RdfLiteral(dataset.description or dataset.title, lang="en")))
    graph.add((node, DCTERMS.publisher, links.organization(dataset.organization)))
    licence = licence_uri(dataset.license)
    graph.add((node, DCTERMS.license, licence))
    graph.add((licence, RDF.type, DCTERMS.LicenseDocument))
    graph.add((licence, RDFS.label, RdfLiteral(dataset.license)))
    for tag in dataset.tags:
        graph.add((node, DCAT.keyword, RdfLiteral(tag, lang="en")))
    frequency = cron_frequency(dataset.schedule)
    if frequency:
        graph.add((node, DCTERMS.accrualPeriodicity, URIRef(EU_FREQUENCY + frequency)))
        graph.add((URIRef(EU_FREQUENCY + frequency), RDF.type, DCTERMS.Frequency))
    if dataset.homepage:
        graph.add((node, FOAF.page, URIRef(dataset.homepage)))
        graph.add((URIRef(dataset.homepage), RDF.type, FOAF.Document))


def _standard(graph: Graph, node: URIRef, uri: str) -> None:
    graph.add((node, DCTERMS.conformsTo, URIRef(uri)))
    graph.add((URIRef(uri), RDF.type, DCTERMS.Standard))


def _add_series(graph: Graph, links: DcatLinks, dataset: Dataset, releases: list[Release]) -> URIRef:
    series = links.series(dataset.name)
    graph.add((series, RDF.type, DCAT.DatasetSeries))
    graph.add((series, RDF.type, DCAT.Dataset))  # DCAT 3: a series is a dataset; the shapes do not infer it
    graph.add((series, DCTERMS.identifier, RdfLiteral(dataset.name)))
    graph.add((series, DCTERMS.title, RdfLiteral(dataset.title, lang="en")))
    _add_common(graph, series, dataset, links)
    add_declared_facts(graph, series, dataset)
    graph.add((series, DCTERMS.modified, _when(releases[-1].published_at or releases[-1].created_at)))
    graph.add((series, DCAT.first, links.release(dataset.name, releases[0].number)))
    graph.add((series, DCAT.last, links.release(dataset.name, releases[-1].number)))
    for release in releases:
        graph.add((series, DCAT.seriesMember, links.release(dataset.name, release.number)))
    return series


def _add_release(
    graph: Graph, links: DcatLinks, dataset: Dataset, release: Release, snapshot: CatalogSnapshot
) -> URIRef:
    coverage = snapshot.coverage.get((dataset.name, release.number))
    node = links.release(dataset.name, release.number)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, RdfLiteral(f"{dataset.name}/{release.number}")))
    graph.add((node, DCTERMS.title, RdfLiteral(f"{dataset.title}, release {release.number}", lang="en")))
    _add_common(graph, node, dataset, links)
    graph.add((node, DCAT.inSeries, links.series(dataset.name)))
    graph.add((node, DCAT.version, RdfLiteral(str(release.number))))
    graph.add((node, DCAT.landingPage, node))
    graph.add((node, RDF.type, FOAF.Document))
    graph.add((node, DCTERMS.issued, _when(release.published_at or release.created_at)))
    graph.add((node, DCTERMS.created, _when(release.created_at)))
    if coverage is not None:
        period = _stable_node("period", str(node))
        graph.add((node, DCTERMS.temporal, period))
        graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
        kind = XSD.date if coverage.kind == "date" else XSD.dateTime
        graph.add((period, DCAT.startDate, RdfLiteral(coverage.start, datatype=kind)))
        graph.add((period, DCAT.endDate, RdfLiteral(coverage.end, datatype=kind)))
    add_declared_facts(graph, node, dataset, temporal=coverage is None)
    for filename, (title, file_type, media, conforms) in DISTRIBUTIONS.items():
        if filename not in release.files:
            continue
        url = f"{links.api_release(dataset.name, release.number)}/{_FILE_ROUTES[filename]}"
        size = snapshot.sizes.get((dataset.name, release.number, filename))
        distribution = _add_distribution(
            graph, node, dataset, url, title, file_type, media, conforms, release.files[filename]
        )
        if size is not None:
            graph.add((distribution, DCAT.byteSize, RdfLiteral(size, datatype=XSD.nonNegativeInteger)))
    if "data.parquet" in release.files:
        _add_distribution(graph, node, dataset, links.csv_export(dataset.name, release.number),
                          "Data (CSV export)", "CSV", "text/csv", None, None)
    return node


def _add_distribution(
    graph: Graph, dataset_node: URIRef, dataset: Dataset, url: str, title: str, file_type: str, media: str,
    conforms: str | None, sha256: str | None,
) -> URIRef:
    node = URIRef(url)
    graph.add((dataset_node, DCAT.distribution, node))
    graph.add((node, RDF.type, DCAT.Distribution))
    graph.add((node, DCTERMS.title, RdfLiteral(title, lang="en")))
    graph.add((node, DCAT.accessURL, URIRef(url)))
    graph.add((node, DCAT.downloadURL, URIRef(url)))
    graph.add((node, DCTERMS.format, URIRef(EU_FILE_TYPE + file_type)))
    graph.add((URIRef(EU_FILE_TYPE + file_type), RDF.type, DCTERMS.MediaTypeOrExtent))
    graph.add((node, DCAT.mediaType, URIRef(IANA + media)))
    graph.add((URIRef(IANA + media), RDF.type, DCTERMS.MediaType))
    graph.add((node, DCTERMS.license, licence_uri(dataset.license)))
    if conforms:
        _standard(graph, node, conforms)
    if sha256:
        checksum = _stable_node("checksum", url)
        graph.add((node, SPDX.checksum, checksum))
        graph.add((checksum, RDF.type, SPDX.Checksum))
        graph.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        graph.add((SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm))
        graph.add((checksum, SPDX.checksumValue, RdfLiteral(sha256, datatype=XSD.hexBinary)))
    return node


def _canonical(value: Any, key: str = "") -> Any:
    """The JSON-LD document in one order: rdflib lists nodes and values in the order of the process's hash
    seed, so replicas would write the same graph differently. Arrays in JSON-LD are unordered sets (we use
    no ``@list``), so sorting them changes nothing the document says."""
    if isinstance(value, dict):
        return {k: _canonical(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v, key) for v in value]
        if key in ("@list", "@context"):
            return items
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
    return value


def _stable_node(kind: str, owner: str) -> BNode:
    """A blank node named after what owns it, so every replica writes the same document."""
    return BNode(f"{kind}-{hashlib.blake2b(owner.encode(), digest_size=8).hexdigest()}")


def _when(timestamp: str) -> RdfLiteral:
    return RdfLiteral(timestamp, datatype=XSD.dateTime)


def serialize(graph: Graph, fmt: Literal["json-ld", "turtle"]) -> str:
    if fmt == "json-ld":
        document = json.loads(graph.serialize(format="json-ld", context=CONTEXT, auto_compact=True))
        return json.dumps(_canonical(document), indent=2, sort_keys=True, ensure_ascii=False)
    return graph.serialize(format="turtle")


def release_nodes(graph: Graph) -> Iterable[URIRef]:
    """The release datasets (members of a series) in a graph, for checks."""
    for node in graph.subjects(DCAT.inSeries, None):
        if isinstance(node, URIRef):
            yield node
