"""Ranked catalog search with facets by organisation, tag, licence and format.

Each published dataset is one document: its title, tags, the column names (with their titles and
descriptions) of its latest release, its organisation and its description. SQLite FTS5 ranks matches with
field weights, a title match weighing most, then tags, columns, organisation and description; words are
stemmed (Porter) and the last word of a query also matches as a prefix, so ``complaint`` finds
``complaints`` and ``bor`` finds ``borough``. BM25's idf vanishes when a word is in half the documents of a
small catalog, so each query word also scores the weights of the fields it is found in; BM25 then orders
datasets within those.

The index is an in-memory SQLite database, rebuilt only when what it indexes changes (a hash of the
documents), so a search costs two catalog reads and one FTS query. Facet counts are taken over the hits
of the query and every filter, as CKAN does.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from catalog.models import Dataset, Release
from catalog.store import Catalog

#: BM25 weight of a match in each indexed field, in the index's column order.
FIELD_WEIGHTS: dict[str, float] = {
    "title": 10.0, "tags": 6.0, "columns": 4.0, "organization": 3.0, "description": 1.0,
}
FACETS = ("organization", "tag", "license", "format")
_WORD = re.compile(r"[^\W_]+")


class SearchQuery(BaseModel):
    """A search: free text and exact-match filters (each optional)."""

    model_config = ConfigDict(frozen=True)

    q: str | None = None
    organization: str | None = None
    tag: str | None = None
    license: str | None = None
    format: str | None = None

    def filters(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump(exclude={"q"}).items() if v}


class FacetValue(BaseModel):
    value: str
    count: int
    title: str | None = Field(default=None, description="display name (an organisation's title)")


class SearchHit(BaseModel):
    dataset: Dataset
    score: float = Field(description="BM25 relevance, higher is better; 0 without a query")
    formats: list[str]
    columns: list[str] = Field(description="column names of the latest release")
    matched_columns: list[str] = Field(default_factory=list, description="columns whose name matches the query")


class SearchResult(BaseModel):
    query: SearchQuery
    hits: list[SearchHit]
    facets: dict[str, list[FacetValue]]

    @property
    def count(self) -> int:
        return len(self.hits)


def release_formats(release: Release | None) -> list[str]:
    """The formats a release is offered in: its Parquet file, and CSV and JSON through the rows API."""
    if release is None or "data.parquet" not in release.files:
        return []
    formats = ["Parquet", "CSV", "JSON"]
    if "datapackage.json" in release.files:
        formats.append("Data Package")
    return formats


def column_texts(release: Release | None) -> list[tuple[str, str]]:
    """(name, name + title + description) of each column of a release's schema."""
    if release is None:
        return []
    found = []
    for field in release.table_schema.get("fields", []):
        name = str(field.get("name", ""))
        words = " ".join(str(field.get(k, "")) for k in ("name", "title", "description"))
        found.append((name, words.strip()))
    return found


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression for free text: every word must match; the last may be a prefix."""
    found = words(text)
    if not found:
        return None
    terms = [f'"{w}"' for w in found[:-1]] + [f'"{found[-1]}"*']
    return " AND ".join(terms)


class _Document(BaseModel):
    dataset: Dataset
    release: Release | None
    organization_title: str


class CatalogSearch:
    """Search over one catalog; keeps its FTS index in memory between searches."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._lock = threading.Lock()
        self._digest: str | None = None
        self._index = sqlite3.connect(":memory:", check_same_thread=False)
        self._documents: list[_Document] = []

    def search(self, query: SearchQuery) -> SearchResult:
        documents = self._load()
        with self._lock:
            self._refresh(documents)
            ranked = self._rank(query.q)
        by_name = {d.dataset.name: d for d in documents}
        if ranked is None:
            order = sorted(documents, key=lambda d: d.dataset.title.lower())
            scored = [(d, 0.0) for d in order]
        else:
            scored = [(by_name[name], score) for name, score in ranked if name in by_name]
        hits = [_hit(d, score, query.q) for d, score in scored if _passes(d, query)]
        organizations = {d.dataset.organization: d.organization_title for d in documents}
        return SearchResult(query=query, hits=hits, facets=facet_counts(hits, organizations))

    def _load(self) -> list[_Document]:
        latest: dict[str, Release] = {}
        for release in self.catalog.all_releases():
            latest[release.dataset] = release  # ordered by number, so the last one wins
        titles = {o.name: o.title for o in self.catalog.organizations()}
        return [
            _Document(dataset=d, release=latest.get(d.name), organization_title=titles.get(d.organization, ""))
            for d in self.catalog.datasets()
        ]

    def _refresh(self, documents: list[_Document]) -> None:
        digest = hashlib.sha256(
            json.dumps([d.model_dump(mode="json") for d in documents], sort_keys=True).encode()
        ).hexdigest()
        if digest == self._digest:
            return
        db = self._index
        db.execute("DROP TABLE IF EXISTS docs")
        db.execute(
            f"CREATE VIRTUAL TABLE docs USING fts5(name UNINDEXED, {', '.join(FIELD_WEIGHTS)}, "
            "tokenize = 'porter unicode61')"
        )
        db.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    d.dataset.name, d.dataset.title, " ".join(d.dataset.tags),
                    " ".join(text for _, text in column_texts(d.release)),
                    f"{d.dataset.organization} {d.organization_title}", d.dataset.description,
                )
                for d in documents
            ],
        )
        self._digest = digest

    def _rank(self, text: str | None) -> list[tuple[str, float]] | None:
        match = fts_query(text or "")
        if match is None:
            return None
        weights = ", ".join(str(w) for w in FIELD_WEIGHTS.values())
        rows = self._index.execute(
            f"SELECT name, bm25(docs, 0.0, {weights}) FROM docs WHERE docs MATCH ?", (match,)
        ).fetchall()
        scores = {str(name): -float(rank) for name, rank in rows}
        found = words(text or "")
        for position, word in enumerate(found):
            term = f'"{word}"*' if position == len(found) - 1 else f'"{word}"'
            for field, weight in FIELD_WEIGHTS.items():
                for (name,) in self._index.execute("SELECT name FROM docs WHERE docs MATCH ?", (f"{field} : {term}",)):
                    if name in scores:
                        scores[name] += weight
        return sorted(((name, round(score, 4)) for name, score in scores.items()), key=lambda item: (-item[1], item[0]))


def _passes(document: _Document, query: SearchQuery) -> bool:
    dataset = document.dataset
    return (
        (query.organization is None or dataset.organization == query.organization)
        and (query.tag is None or query.tag in dataset.tags)
        and (query.license is None or dataset.license == query.license)
        and (query.format is None or query.format in release_formats(document.release))
    )


def _hit(document: _Document, score: float, text: str | None) -> SearchHit:
    columns = column_texts(document.release)
    wanted = words(text or "")
    matched = [
        name for name, _ in columns
        if wanted and any(w.startswith(q) or q.startswith(w) for q in wanted for w in words(name) if len(q) > 2)
    ]
    return SearchHit(
        dataset=document.dataset, score=score, formats=release_formats(document.release),
        columns=[name for name, _ in columns], matched_columns=matched,
    )


def facet_counts(hits: Iterable[SearchHit], organization_titles: dict[str, str]) -> dict[str, list[FacetValue]]:
    """Counts of each facet's values over the hits, most frequent first."""
    counters: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    for hit in hits:
        counters["organization"][hit.dataset.organization] += 1
        counters["tag"].update(set(hit.dataset.tags))
        counters["license"][hit.dataset.license] += 1
        counters["format"].update(hit.formats)
    return {
        name: [
            FacetValue(value=value, count=count,
                       title=organization_titles.get(value) if name == "organization" else None)
            for value, count in sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        ]
        for name, counter in counters.items()
    }
