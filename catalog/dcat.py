"""The catalog as DCAT-AP 3: its triples, as plain values (``catalog/rdf_text.py``), by what they describe.

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

The routes write pages from per-dataset fragments of these triples (``catalog/dcat_page.py``);
``build_graph`` puts the same triples in one rdflib graph, the reference the tests compare pages with, and
``serialize`` writes that graph with rdflib (the old path, kept for the benchmark's comparison).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDFS, XSD

from catalog.dcat_facts import HYDRA, VCARD, CatalogPage, declared_facts, paging_triples, stable_node
from catalog.models import Dataset, Organization, OrganizationProfile, Release
from catalog.rdf_text import RDF_TYPE, Blank, Lit, Prefixes, Subject, Triple, Vocab, to_graph

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


def licence_uri(licence: str) -> str:
    code = EU_LICENCES.get(licence)
    return EU_LICENCE + code if code else f"https://spdx.org/licenses/{licence}"


class DcatLinks:
    """The platform's URIs for catalog things, under one base URL."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def catalog(self) -> str:
        return f"{self.base}/catalog"

    def series(self, name: str) -> str:
        return f"{self.base}/datasets/{name}"

    def release(self, name: str, number: int) -> str:
        return f"{self.base}/datasets/{name}/releases/{number}"

    def organization(self, name: str) -> str:
        return f"{self.base}/organizations/{name}"

    def api_release(self, name: str, number: int) -> str:
        return f"{self.base}/api/v1/datasets/{name}/releases/{number}"

    def csv_export(self, name: str, number: int) -> str:
        """The whole release as CSV (every row), not a page of rows."""
        return f"{self.base}/api/v1/datasets/{name}/export.csv?release={number}"

    def owned_by(self, name: str) -> Callable[[Subject], bool]:
        """Whether a subject is described by dataset ``name`` alone: its series, its releases and their
        files, its blank nodes; other subjects (licences, formats, themes) are shared between datasets."""
        series = self.series(name)
        inside = (series + "/", f"{self.base}/api/v1/datasets/{name}/")

        def owned(subject: Subject) -> bool:
            return isinstance(subject, Blank) or subject == series or subject.startswith(inside)
        return owned


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
PREFIXES = Prefixes(CONTEXT)
_D, _DCT, _FOAF, _SPDX, _RDFS = Vocab(DCAT), Vocab(DCTERMS), Vocab(FOAF), Vocab(SPDX), Vocab(RDFS)
_XSD_DATETIME = f"{XSD}dateTime"
_XSD_DATE = f"{XSD}date"
_XSD_COUNT = f"{XSD}nonNegativeInteger"
_XSD_HEX = f"{XSD}hexBinary"
_SHA256 = f"{SPDX}checksumAlgorithm_sha256"


def catalog_triples(title: str, description: str, publisher: str, base: str,
                    page: CatalogPage | None) -> list[Triple]:
    """The catalog node itself (without its datasets), its operator, and its hydra page when it is paged."""
    links = DcatLinks(base)
    catalog = links.catalog()
    operator = f"{links.base}/catalog#publisher"
    out: list[Triple] = [
        (catalog, RDF_TYPE, _D.Catalog),
        (catalog, _DCT.title, Lit(title, "en")),
        (catalog, _DCT.description, Lit(description, "en")),
        (catalog, _FOAF.homepage, catalog),
        (catalog, RDF_TYPE, _FOAF.Document),
    ]
    _standard(out, catalog, DCAT_AP_3)
    if page is not None:
        out += paging_triples(catalog, page)
    out += [(catalog, _DCT.publisher, operator), (operator, RDF_TYPE, _FOAF.Agent),
            (operator, _FOAF.name, Lit(publisher, "en"))]
    return out


def organization_triples(
    base: str, organizations: Iterable[tuple[str, str]], profiles: Mapping[str, OrganizationProfile] | None = None
) -> list[Triple]:
    """``(name, title)`` of each publishing agency, as a foaf:Organization, with its website (foaf:homepage)
    and contact (foaf:mbox for an address, foaf:page for a URL) where its profile gives them."""
    links = DcatLinks(base)
    out: list[Triple] = []
    for name, title in organizations:
        agent = links.organization(name)
        out += [(agent, RDF_TYPE, _FOAF.Organization), (agent, RDF_TYPE, _FOAF.Agent),
                (agent, _FOAF.name, Lit(title, "en"))]
        profile = (profiles or {}).get(name)
        if profile is None:
            continue
        if profile.website and _is_web_address(profile.website):
            out += [(agent, _FOAF.homepage, profile.website), (profile.website, RDF_TYPE, _FOAF.Document)]
        if profile.contact and _is_web_address(profile.contact):
            out += [(agent, _FOAF.page, profile.contact), (profile.contact, RDF_TYPE, _FOAF.Document)]
        elif profile.contact and "@" in profile.contact and " " not in profile.contact.strip():
            out.append((agent, _FOAF.mbox, "mailto:" + profile.contact.strip()))
    return out


def organization_profiles(datasets: Iterable[Dataset]) -> dict[str, OrganizationProfile]:
    """Each organisation's profile from its most recently updated dataset that has one (as its page shows)."""
    found: dict[str, tuple[str, OrganizationProfile]] = {}
    for dataset in datasets:
        profile = dataset.organization_profile
        if profile is None:
            continue
        kept = found.get(dataset.organization)
        if kept is None or dataset.updated_at > kept[0]:
            found[dataset.organization] = (dataset.updated_at, profile)
    return {name: profile for name, (_, profile) in found.items()}


def _is_web_address(text: str) -> bool:
    return text.startswith(("https://", "http://")) and not any(c.isspace() for c in text)


def membership_triples(base: str, dataset: str, numbers: Iterable[int]) -> list[Triple]:
    """The catalog's dcat:dataset links to a series and each of its releases."""
    links = DcatLinks(base)
    catalog = links.catalog()
    out: list[Triple] = [(catalog, _D.dataset, links.series(dataset))]
    out += [(catalog, _D.dataset, links.release(dataset, n)) for n in numbers]
    return out


def dataset_triples(
    base: str, dataset: Dataset, releases: list[Release], coverage: Mapping[int, Coverage],
    sizes: Mapping[tuple[int, str], int],
) -> list[Triple]:
    """A dataset as a series and each published release (oldest first) as a dataset in it, with their
    distributions; ``coverage`` by release number, ``sizes`` by (release number, file name)."""
    links = DcatLinks(base)
    out: list[Triple] = []
    _add_series(out, links, dataset, releases)
    previous: str | None = None
    for release in releases:
        node = _add_release(out, links, dataset, release, coverage.get(release.number), sizes)
        if previous is not None:
            out.append((node, _D.prev, previous))
        previous = node
    return out


def snapshot_triples(snapshot: CatalogSnapshot, base: str) -> list[Triple]:
    """Every triple of the snapshot's document, in one list."""
    out = catalog_triples(snapshot.title, snapshot.description, snapshot.publisher, base, snapshot.page)
    titles = {o.name: o.title for o in snapshot.organizations}
    out += organization_triples(base, ((name, titles.get(name, name))
                                       for name in sorted({d.organization for d in snapshot.datasets})),
                                organization_profiles(snapshot.datasets))
    for dataset in snapshot.datasets:
        releases = sorted(snapshot.releases.get(dataset.name, []), key=lambda r: r.number)
        if not releases:
            continue
        out += membership_triples(base, dataset.name, [r.number for r in releases])
        coverage = {n: c for (name, n), c in snapshot.coverage.items() if name == dataset.name}
        sizes = {(n, f): b for (name, n, f), b in snapshot.sizes.items() if name == dataset.name}
        out += dataset_triples(base, dataset, releases, coverage, sizes)
    return out


def build_graph(snapshot: CatalogSnapshot, base: str) -> Graph:
    """The snapshot as one rdflib graph (the reference build; the routes write text from the same triples)."""
    return to_graph(snapshot_triples(snapshot, base), PREFIXES)


def _add_common(out: list[Triple], node: str, dataset: Dataset, links: DcatLinks) -> None:
    out.append((node, _DCT.description, Lit(dataset.description or dataset.title, "en")))
    out.append((node, _DCT.publisher, links.organization(dataset.organization)))
    licence = licence_uri(dataset.license)
    out += [(node, _DCT.license, licence), (licence, RDF_TYPE, _DCT.LicenseDocument),
            (licence, _RDFS.label, Lit(dataset.license))]
    for tag in dataset.tags:
        out.append((node, _D.keyword, Lit(tag, "en")))
    frequency = cron_frequency(dataset.schedule)
    if frequency:
        out += [(node, _DCT.accrualPeriodicity, EU_FREQUENCY + frequency),
                (EU_FREQUENCY + frequency, RDF_TYPE, _DCT.Frequency)]
    if dataset.homepage:
        out += [(node, _FOAF.page, dataset.homepage), (dataset.homepage, RDF_TYPE, _FOAF.Document)]


def _standard(out: list[Triple], node: str, uri: str) -> None:
    out += [(node, _DCT.conformsTo, uri), (uri, RDF_TYPE, _DCT.Standard)]


def _add_series(out: list[Triple], links: DcatLinks, dataset: Dataset, releases: list[Release]) -> str:
    series = links.series(dataset.name)
    out += [
        (series, RDF_TYPE, _D.DatasetSeries),
        (series, RDF_TYPE, _D.Dataset),  # DCAT 3: a series is a dataset; the shapes do not infer it
        (series, _DCT.identifier, Lit(dataset.name)),
        (series, _DCT.title, Lit(dataset.title, "en")),
    ]
    _add_common(out, series, dataset, links)
    declared_facts(out, series, dataset)
    out += [
        (series, _DCT.modified, _when(releases[-1].published_at or releases[-1].created_at)),
        (series, _D.first, links.release(dataset.name, releases[0].number)),
        (series, _D.last, links.release(dataset.name, releases[-1].number)),
    ]
    out += [(series, _D.seriesMember, links.release(dataset.name, r.number)) for r in releases]
    return series


def _add_release(
    out: list[Triple], links: DcatLinks, dataset: Dataset, release: Release, coverage: Coverage | None,
    sizes: Mapping[tuple[int, str], int],
) -> str:
    node = links.release(dataset.name, release.number)
    out += [
        (node, RDF_TYPE, _D.Dataset),
        (node, _DCT.identifier, Lit(f"{dataset.name}/{release.number}")),
        (node, _DCT.title, Lit(f"{dataset.title}, release {release.number}", "en")),
    ]
    _add_common(out, node, dataset, links)
    out += [
        (node, _D.inSeries, links.series(dataset.name)),
        (node, _D.version, Lit(str(release.number))),
        (node, _D.landingPage, node),
        (node, RDF_TYPE, _FOAF.Document),
        (node, _DCT.issued, _when(release.published_at or release.created_at)),
        (node, _DCT.created, _when(release.created_at)),
    ]
    if coverage is not None:
        period = stable_node("period", node)
        kind = _XSD_DATE if coverage.kind == "date" else _XSD_DATETIME
        out += [(node, _DCT.temporal, period), (period, RDF_TYPE, _DCT.PeriodOfTime),
                (period, _D.startDate, Lit(coverage.start, datatype=kind)),
                (period, _D.endDate, Lit(coverage.end, datatype=kind))]
    declared_facts(out, node, dataset, temporal=coverage is None)
    for filename, (title, file_type, media, conforms) in DISTRIBUTIONS.items():
        if filename not in release.files:
            continue
        url = f"{links.api_release(dataset.name, release.number)}/{_FILE_ROUTES[filename]}"
        size = sizes.get((release.number, filename))
        distribution = _add_distribution(
            out, node, dataset, url, title, file_type, media, conforms, release.files[filename]
        )
        if size is not None:
            out.append((distribution, _D.byteSize, Lit(str(size), datatype=_XSD_COUNT)))
    if "data.parquet" in release.files:
        _add_distribution(out, node, dataset, links.csv_export(dataset.name, release.number),
                          "Data (CSV export)", "CSV", "text/csv", None, None)
    return node


def _add_distribution(
    out: list[Triple], dataset_node: str, dataset: Dataset, url: str, title: str, file_type: str, media: str,
    conforms: str | None, sha256: str | None,
) -> str:
    out += [
        (dataset_node, _D.distribution, url),
        (url, RDF_TYPE, _D.Distribution),
        (url, _DCT.title, Lit(title, "en")),
        (url, _D.accessURL, url),
        (url, _D.downloadURL, url),
        (url, _DCT.format, EU_FILE_TYPE + file_type),
        (EU_FILE_TYPE + file_type, RDF_TYPE, _DCT.MediaTypeOrExtent),
        (url, _D.mediaType, IANA + media),
        (IANA + media, RDF_TYPE, _DCT.MediaType),
        (url, _DCT.license, licence_uri(dataset.license)),
    ]
    if conforms:
        _standard(out, url, conforms)
    if sha256:
        checksum = stable_node("checksum", url)
        out += [(url, _SPDX.checksum, checksum), (checksum, RDF_TYPE, _SPDX.Checksum),
                (checksum, _SPDX.algorithm, _SHA256), (_SHA256, RDF_TYPE, _SPDX.ChecksumAlgorithm),
                (checksum, _SPDX.checksumValue, Lit(sha256, datatype=_XSD_HEX))]
    return url


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


def _when(timestamp: str) -> Lit:
    return Lit(timestamp, datatype=_XSD_DATETIME)


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
