"""A page of the DCAT catalog written from per-dataset fragments, without building an rdflib graph.

    page document  =  catalog node (title, paging, dcat:dataset links)  +  publishing agencies
                   +  one fragment per dataset (its series, releases, distributions: text, kept)
                   +  the shared nodes the fragments point at (licences, formats, themes), each once

A fragment is the text of what a dataset alone describes, in the page's syntax, with the triples it shares
with other datasets beside it (so a page types a licence once, however many datasets use it). Fragments are
kept (``FragmentCache``, least recently used out) under a key of everything they say: the dataset's record,
its published releases (immutable: number, folder, files, times) and the base URL. A publish or an edited
job file changes the key of that dataset only, so the next page rebuilds one fragment and joins the rest.

The triples are the ones ``catalog.dcat.build_graph`` puts in its rdflib graph (the same functions make
both); ``tests/test_dcat_fragments.py`` checks that a page parses to a graph isomorphic to that build.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from catalog.dcat import (
    PREFIXES,
    Coverage,
    DcatLinks,
    catalog_triples,
    dataset_triples,
    membership_triples,
    organization_profiles,
    organization_triples,
)
from catalog.dcat_facts import CatalogPage
from catalog.models import Dataset, Release
from catalog.rdf_text import Triple, jsonld_document, jsonld_nodes, turtle_blocks, turtle_document

Syntax = Literal["json-ld", "turtle"]
#: Dataset fragments kept (each a few kB to tens of kB of text: a page of 100 datasets is about 1 MB).
KEPT_FRAGMENTS = 2048
#: What the DCAT catalog says of a release besides its record: temporal coverage, byte size by file name.
FactsOf = Callable[[Release], tuple[Coverage | None, Mapping[str, int]]]


@dataclass(frozen=True)
class Fragment:
    text: str
    shared: tuple[Triple, ...]


@dataclass(frozen=True)
class PageRecords:
    """What one page of the catalog shows: its datasets (name order) with their published releases (oldest
    first), the titles of their agencies, and where the page is in the catalog."""

    entries: list[tuple[Dataset, list[Release]]]
    organization_titles: Mapping[str, str]
    page: CatalogPage


def write(triples: Iterable[Triple], syntax: Syntax) -> str:
    return jsonld_nodes(triples, PREFIXES) if syntax == "json-ld" else turtle_blocks(triples, PREFIXES)


def _key(syntax: Syntax, base: str, dataset: Dataset, releases: list[Release]) -> tuple[object, ...]:
    return (syntax, base, dataset.model_dump_json(),
            tuple((r.number, r.folder, r.created_at, r.published_at, tuple(sorted(r.files.items())))
                  for r in releases))


def build_fragment(syntax: Syntax, base: str, dataset: Dataset, releases: list[Release],
                   facts: FactsOf) -> Fragment:
    coverage: dict[int, Coverage] = {}
    sizes: dict[tuple[int, str], int] = {}
    for release in releases:
        found, byte_sizes = facts(release)
        if found is not None:
            coverage[release.number] = found
        sizes.update({(release.number, name): size for name, size in byte_sizes.items()})
    owned = DcatLinks(base).owned_by(dataset.name)
    own: list[Triple] = []
    shared: list[Triple] = []
    for triple in dataset_triples(base, dataset, releases, coverage, sizes):
        (own if owned(triple[0]) else shared).append(triple)
    return Fragment(write(own, syntax), tuple(dict.fromkeys(shared)))


class FragmentCache:
    """Dataset fragments, kept under a key of everything they say (see the module docstring)."""

    def __init__(self, capacity: int = KEPT_FRAGMENTS) -> None:
        self.capacity = capacity
        self._kept: OrderedDict[tuple[object, ...], Fragment] = OrderedDict()
        self._lock = threading.Lock()
        self.built = 0  # fragments built (not found kept), for tests and benchmarks

    def fragment(self, syntax: Syntax, base: str, dataset: Dataset, releases: list[Release],
                 facts: FactsOf) -> Fragment:
        key = _key(syntax, base, dataset, releases)
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
        made = build_fragment(syntax, base, dataset, releases, facts)
        with self._lock:
            self.built += 1
            self._kept[key] = made
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)
        return made


@dataclass(frozen=True)
class CatalogText:
    """The catalog's own description (the settings' title and publisher)."""

    title: str
    description: str
    publisher: str


def page_document(syntax: Syntax, base: str, about: CatalogText, records: PageRecords, cache: FragmentCache,
                  facts: FactsOf) -> str:
    """One page of the catalog as a document in ``syntax``: head, agencies, dataset fragments, shared nodes."""
    base = base.rstrip("/")
    head = catalog_triples(about.title, about.description, about.publisher, base, records.page)
    for dataset, releases in records.entries:
        head += membership_triples(base, dataset.name, [r.number for r in releases])
    organizations = sorted({dataset.organization for dataset, _ in records.entries})
    head += organization_triples(base, ((n, records.organization_titles.get(n, n)) for n in organizations),
                                 organization_profiles(dataset for dataset, _ in records.entries))
    fragments = [cache.fragment(syntax, base, dataset, releases, facts) for dataset, releases in records.entries]
    shared = dict.fromkeys(triple for fragment in fragments for triple in fragment.shared)
    parts = [write(head, syntax), *(f.text for f in fragments), write(shared, syntax)]
    if syntax == "json-ld":
        return jsonld_document(PREFIXES, parts)
    return turtle_document(PREFIXES, parts)
