"""Ranked catalog search with facets by organisation, tag, licence and format, answered by the database.

Each published dataset is one document (``catalog.search_index``, updated when the catalog changes): its
title, tags, the column names (with their titles and descriptions) of its latest release, its organisation
and its description. The engine's full-text index ranks matches with field weights, a title match weighing
most, then tags, columns, organisation and description; words are stemmed (Porter on SQLite, English on
PostgreSQL) and the last word of a query also matches as a prefix, so ``complaint`` finds ``complaints`` and
``bor`` finds ``borough``. BM25's idf vanishes when a word is in half the documents of a small catalog, so
each query word also scores the weights of the fields it is found in; the rank then orders datasets within
those.

Ranking, filters, paging (``limit``/``offset``, or ``after`` a (title, name) key for the unranked listing,
which stays exact while datasets are published) and the facet counts over every hit are SQL, so a search
costs the same few indexed queries at 50 datasets and at 50,000.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from catalog.database import CatalogConnection
from catalog.models import Dataset, Release
from catalog.search_index import column_texts as schema_column_texts
from catalog.search_index import record_of_row, summary_of
from catalog.search_index import release_formats as files_formats
from catalog.search_vocabulary import REBUILD_SECONDS, Vocabulary, read_vocabulary
from catalog.store import Catalog

#: Weight of a match in each indexed field, in the index's column order.
FIELD_WEIGHTS: dict[str, float] = {
    "title": 10.0, "tags": 6.0, "columns": 4.0, "organization": 3.0, "description": 1.0,
}
#: PostgreSQL's weight label of each field (D holds organisation and description).
POSTGRES_LABELS = {"title": "A", "tags": "B", "columns": "C", "organization": "D"}
FACETS = ("organization", "tag", "license", "format")
#: Columns a search may be ordered by (``order=``), besides its rank or title.
ORDER_COLUMNS = frozenset({"d.name", "d.sort_title", "d.updated_at", "d.created_at", "score"})
#: What ``sort=`` may ask for, as (column, descending) pairs (None: rank with a query, else title).
SORTS: dict[str, list[tuple[str, bool]] | None] = {
    "relevance": None, "updated": [("d.updated_at", True)], "name": [("d.sort_title", False)],
}
#: A hit in a ranking: its name, score and facet set (None when not read, or written by older code).
Ranked = tuple[str, float, int | None]
#: What a page of hits reads of each document (then its score).
PAGE_COLUMNS = ("name", "sort_title", "columns", "formats", "record", "summary")
#: A search with fewer hits than this also tries its words corrected (typo tolerance).
FEW_HITS = 3
#: Most values a facet lists (the most frequent first).
FACET_VALUES = 50
_WORD = re.compile(r"[^\W_]+")


class SearchQuery(BaseModel):
    """A search: free text and exact-match filters (each optional)."""

    model_config = ConfigDict(frozen=True)

    q: str | None = None
    title: str | None = Field(default=None, description="words that must all be in the title (CKAN's title:)")
    organization: str | None = None
    tag: str | None = None
    license: str | None = None
    format: str | None = None

    def filters(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump(exclude={"q", "title"}).items() if v}


class FacetValue(BaseModel):
    value: str
    count: int
    title: str | None = Field(default=None, description="display name (an organisation's title)")


class SearchHit(BaseModel):
    dataset: Dataset
    score: float = Field(description="relevance, higher is better; 0 without a query")
    formats: list[str]
    columns: list[str] = Field(description="column names of the latest release")
    matched_columns: list[str] = Field(default_factory=list, description="columns whose name matches the query")


class SearchResult(BaseModel):
    query: SearchQuery
    hits: list[SearchHit]
    facets: dict[str, list[FacetValue]]
    total: int = Field(default=0, description="datasets matching, over every page")
    offset: int = 0
    after: tuple[str, str] | None = Field(default=None, description="the (title, name) key after the last hit, "
                                          "when more follow in the unranked listing")
    corrected: str | None = Field(default=None, description="when the words as typed found nothing: the search "
                                  "these hits are for, each unknown word replaced by the nearest indexed word")
    suggestion: str | None = Field(default=None, description="a search with the unknown words corrected that "
                                   "finds more datasets than this one (\"did you mean\")")

    summaries: list[tuple[str, str]] = Field(default_factory=list, description="(name, stored public summary "
                                             "JSON without its URL: ``search_index.HitSummary``) of each hit")

    @property
    def count(self) -> int:
        return len(self.summaries)


def release_formats(release: Release | None) -> list[str]:
    """The formats a release is offered in: its Parquet file, and CSV and JSON through the rows API."""
    return files_formats(release.files if release else None)


def column_texts(release: Release | None) -> list[tuple[str, str]]:
    """(name, name + title + description) of each column of a release's schema."""
    return schema_column_texts(release.table_schema if release else None)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression for free text: every word must match; the last may be a prefix."""
    found = words(text)
    if not found:
        return None
    terms = [f'"{w}"' for w in found[:-1]] + [f'"{found[-1]}"*']
    return " AND ".join(terms)


def ts_query(text: str) -> str | None:
    """A PostgreSQL tsquery for free text (words are letters and digits only): all words, the last a prefix."""
    found = words(text)
    if not found:
        return None
    return " & ".join(found[:-1] + [f"{found[-1]}:*"])


class CatalogSearch:
    """Search over one catalog's index (kept by the catalog itself; nothing here to refresh).

    With ``version`` (the catalog's change counter, e.g. ``CatalogView.version``), the total and facet
    counts of a query, which cost a pass over every hit, are kept until the catalog changes (at most
    ``CACHED_COUNTS`` queries, least recently used out), and so is the ranking of a ranked search (names and
    scores); the datasets of a page are always read afresh. A ranked search made for the first time reads
    its ranking, total and facet sets in one pass over its hits."""

    CACHED_COUNTS = 256
    CACHED_RANKINGS = 64
    CACHED_RANKING = 20_000
    CACHED_SETS = 8192

    def __init__(self, catalog: Catalog, version: Callable[[], int] | None = None) -> None:
        self.catalog = catalog
        self.version = version
        self._counts: OrderedDict[str, tuple[int, tuple[int, dict[str, list[FacetValue]]]]] = OrderedDict()
        self._rankings: OrderedDict[str, tuple[int, list[Ranked]]] = OrderedDict()
        # A facet set's values never change (a document with other values names another set; ids are not reused)
        self._sets: OrderedDict[int, list[tuple[str, str, str | None]]] = OrderedDict()
        self._vocabulary: tuple[int, float, Vocabulary] | None = None
        self._rebuilding = False  # a rebuild of the vocabulary is running on its thread
        self._lock = threading.Lock()

    def _kept(self, cache: OrderedDict[Any, tuple[int, Any]], key: Any, version: int | None) -> Any | None:
        if version is None:
            return None
        with self._lock:
            found = cache.get(key)
            if found is None or found[0] != version:
                return None
            cache.move_to_end(key)
            return found[1]

    def _keep(self, cache: OrderedDict[Any, tuple[int, Any]], key: Any, version: int | None, value: Any,
              most: int) -> None:
        if version is None:
            return
        with self._lock:
            cache[key] = (version, value)
            cache.move_to_end(key)
            while len(cache) > most:
                cache.popitem(last=False)

    @staticmethod
    def _ranking_key(hits: _Hits) -> str:
        return json.dumps(["ranking", hits.ids(), hits.params, hits.order], sort_keys=True, default=str)

    @staticmethod
    def _counts_key(hits: _Hits, facets: bool) -> str:
        return json.dumps([hits.ids(), hits.params, facets], sort_keys=True, default=str)

    def _ranked(self, db: CatalogConnection, hits: _Hits) -> tuple[list[Ranked] | None, int,
                                                                     dict[str, list[FacetValue]]]:
        """The ranking (None when it would hold more than ``CACHED_RANKING`` hits), total and facet counts of
        a search by relevance, kept or read in one pass: each hit's name, score and facet set together."""
        version = self.version() if self.version is not None else None
        ranking_key, counts_key = self._ranking_key(hits), self._counts_key(hits, True)
        ranking = self._kept(self._rankings, ranking_key, version)
        counted = self._kept(self._counts, counts_key, version)
        if counted is not None and (ranking is not None or counted[0] > self.CACHED_RANKING):
            return ranking, counted[0], counted[1]
        most = hits.most()
        if counted is None and most > self.CACHED_RANKING:
            total, counts = self._totals(db, hits, True)
            return None, total, counts
        ranking = hits.ranking(with_sets=True)
        sets = [s for _, _, s in ranking if s is not None]
        # Documents written by the previous release's code name no set: counted as that code counts them.
        counts = facet_counts(db, hits) if len(sets) < len(ranking) else self._set_counts(db, sets)
        self._keep(self._rankings, ranking_key, version, ranking, self.CACHED_RANKINGS)
        self._keep(self._counts, counts_key, version, (len(ranking), counts), self.CACHED_COUNTS)
        return ranking, len(ranking), counts

    def _set_counts(self, db: CatalogConnection, sets: list[int]) -> dict[str, list[FacetValue]]:
        """Facet counts of hits from their facet sets: each set's values, counted once with its hits' number."""
        per_set = Counter(sets)
        with self._lock:
            known = {s: self._sets[s] for s in per_set if s in self._sets}
        missing = [s for s in per_set if s not in known]
        for start in range(0, len(missing), 500):
            chunk = missing[start:start + 500]
            read: dict[int, list[tuple[str, str, str | None]]] = {s: [] for s in chunk}
            marks = ", ".join("?" for _ in chunk)
            for number, facet, value, title in db.execute(
                    f"SELECT facet_set, facet, value, title FROM search_facet_values WHERE facet_set IN ({marks})",
                    chunk).fetchall():
                read[int(number)].append((str(facet), str(value), None if title is None else str(title)))
            known.update(read)
            with self._lock:
                self._sets.update(read)
                while len(self._sets) > self.CACHED_SETS:
                    self._sets.popitem(last=False)
        counts: dict[tuple[str, str], list[Any]] = {}
        for number, n in per_set.items():
            for facet, value, title in known[number]:
                _count(counts, facet, value, n, title)
        return _facet_values(counts)

    def _ranked_page(self, db: CatalogConnection, hits: _Hits, limit: int | None, offset: int,
                     ranking: list[Ranked] | None = None) -> list[Any]:
        """A page of a ranked (or ``order``ed) search from its whole ranking, kept (names and scores only; the
        caller asks only for rankings of at most ``CACHED_RANKING`` hits) until the catalog changes, as Solr
        keeps query results."""
        if ranking is None:
            key = self._ranking_key(hits)
            version = self.version() if self.version is not None else 0
            ranking = self._kept(self._rankings, key, version)
            if ranking is None:
                ranking = hits.ranking()
                self._keep(self._rankings, key, version, ranking, self.CACHED_RANKINGS)
        shown = ranking[offset: None if limit is None else offset + limit]
        if not shown:
            return []
        marks = ", ".join("?" for _ in shown)
        rows = {str(r[0]): r for r in db.execute(
            f"SELECT {', '.join(PAGE_COLUMNS)} FROM search_documents WHERE name IN ({marks})",
            [name for name, _, _ in shown]).fetchall()}
        return [dict(zip(PAGE_COLUMNS, rows[name], strict=True), score=score) for name, score, _ in shown
                if name in rows]

    def _totals(self, db: CatalogConnection, hits: _Hits, facets: bool) -> tuple[int, dict[str, list[FacetValue]]]:
        key = self._counts_key(hits, facets)
        version = self.version() if self.version is not None else None
        found = self._kept(self._counts, key, version)
        if found is not None:
            return int(found[0]), found[1]
        counts = facet_counts(db, hits) if facets else {n: [] for n in FACETS}
        if facets:
            total = sum(v.count for v in counts["organization"]) if len(counts["organization"]) < FACET_VALUES \
                else int(db.execute(f"SELECT count(*) FROM ({hits.ids()}) h", hits.params).fetchone()[0])
        else:
            total = int(db.execute(f"SELECT count(*) FROM ({hits.ids()}) h", hits.params).fetchone()[0])
        self._keep(self._counts, key, version, (total, counts), self.CACHED_COUNTS)
        return total, counts

    def vocabulary(self) -> Vocabulary:
        """The index's words (``catalog.search_vocabulary``), rebuilt when the catalog has changed, at most
        every ``REBUILD_SECONDS``. Only the first build is waited for (about 1.2 s at 50,000 datasets): later
        ones run on a thread of their own while searches use the words read before (a suggestion a few
        minutes stale is harmless; a search held up for a second is not)."""
        version = self.version() if self.version is not None else 0
        with self._lock:
            found = self._vocabulary
            fresh = found is not None and (found[0] == version or time.monotonic() - found[1] < REBUILD_SECONDS)
            if found is not None and not fresh and not self._rebuilding:
                self._rebuilding = True
                threading.Thread(target=self._read_vocabulary, args=(version,), name="search-vocabulary",
                                 daemon=True).start()
        if found is not None:
            return found[2]
        return self._read_vocabulary(version)

    def _read_vocabulary(self, version: int) -> Vocabulary:
        try:
            with self.catalog.database.connect() as db:
                vocabulary = read_vocabulary(db)
            with self._lock:
                self._vocabulary = (version, time.monotonic(), vocabulary)
            return vocabulary
        finally:
            with self._lock:
                self._rebuilding = False

    def find(self, query: SearchQuery, *, sort: str | None = None, **options: Any) -> SearchResult:
        """``search`` with a ``sort`` (``SORTS``: relevance, updated, name) and typo tolerance: a query that
        finds nothing is answered for its words corrected (``corrected``); one that finds little gets a
        ``suggestion`` when the corrected words find more."""
        order = SORTS.get(sort or "relevance")
        if order is not None and sort == "name" and not query.q:
            order = None  # the title listing, paged by key
        result = self.search(query, order=order, **options)
        if not query.q or result.total >= FEW_HITS:
            return result
        corrected = self.vocabulary().correct(words(query.q))
        if corrected is None:
            return result
        text = " ".join(corrected)
        other = self.search(query.model_copy(update={"q": text}), order=order, **options)
        if result.total == 0 and other.total > 0:
            return other.model_copy(update={"corrected": text})
        if other.total > result.total:
            return result.model_copy(update={"suggestion": text})
        return result

    def search(
        self, query: SearchQuery, *, limit: int | None = None, offset: int = 0, after: tuple[str, str] | None = None,
        facets: bool = True, names: Sequence[str] | None = None, tags: Sequence[str] = (),
        order: Sequence[tuple[str, bool]] | None = None, records: bool = True,
    ) -> SearchResult:
        """One page of hits (``limit`` from ``offset``, or ``after`` a (title, name) key without ``q``), the
        total and the facet counts. ``names`` and ``tags`` narrow further (every tag must be present);
        ``order`` is (column, descending) pairs among ``ORDER_COLUMNS``, instead of rank or title. The page's
        stored summaries are always in ``summaries``; ``records=False`` makes no hit models (``hits`` empty)."""
        if order is not None and any(column not in ORDER_COLUMNS for column, _ in order):
            raise ValueError(f"search order columns are {', '.join(sorted(ORDER_COLUMNS))}")
        with self.catalog.database.connect() as db:
            hits = _Hits(db, query, names, [*([query.tag] if query.tag else []), *tags], order)
            if hits.empty:
                return SearchResult(query=query, hits=[], facets={n: [] for n in FACETS}, total=0, offset=offset)
            ranking = None
            if query.q and not order and facets and self.version is not None:
                ranking, total, counts = self._ranked(db, hits)
            else:
                total, counts = self._totals(db, hits, facets)
            keyed = limit is not None and query.q is None and not order  # the title listing, paged by key
            more = False
            if ranking is not None:
                page = self._ranked_page(db, hits, limit, offset, ranking)
            elif (query.q or order) and self.version is not None and total <= self.CACHED_RANKING:
                page = self._ranked_page(db, hits, limit, offset)
            elif keyed and limit is not None:
                # one hit past the page, read with it: whether another page follows (a keyed page has no offset)
                page = hits.page(limit + 1, offset, after)
                more, page = len(page) > limit, page[:limit]
            else:
                page = hits.page(limit, offset, after)
            page = _with_stored_hits(db, page)
            # The key after the last hit, for the next page of the title listing (None on its last page).
            key = (str(page[-1]["sort_title"]), str(page[-1]["name"])) if more and page else None
        found = [_hit(r, query.q) for r in page] if records else []
        return SearchResult(query=query, hits=found, facets=counts, total=total, offset=offset, after=key,
                            summaries=[(str(r["name"]), str(r["summary"])) for r in page])


class _Hits:
    """The SQL of one query's hits, with its parameters, in the database's dialect."""

    def __init__(self, db: CatalogConnection, query: SearchQuery, names: Sequence[str] | None, tags: list[str],
                 order: Sequence[tuple[str, bool]] | None) -> None:
        self.db = db
        self.query = query
        self.order = order
        self.params: dict[str, Any] = {}
        self.where: list[str] = []
        self.score = "0.0"
        self.match: str | None = None  # the full-text condition, when there is a query
        self.ranked_source: str | None = None  # SQLite: the FTS rank joined to the documents
        self.empty = False
        for name in ("organization", "license"):
            value = getattr(query, name)
            if value:
                self.where.append(f"d.{name} = :{name}")
                self.params[name] = value
        wanted = [("format", query.format)] if query.format else []
        wanted += [("tag", tag) for tag in tags]
        for position, (facet, value) in enumerate(wanted):
            self.where.append(f"EXISTS (SELECT 1 FROM search_terms t WHERE t.doc = d.id AND t.facet = '{facet}' "
                              f"AND t.value = :term{position})")
            self.params[f"term{position}"] = value
        if names is not None:
            marks = ", ".join(f":name{i}" for i in range(len(names)))
            self.where.append(f"d.name IN ({marks})" if names else "1 = 0")
            self.params.update({f"name{i}": name for i, name in enumerate(names)})
        if query.title:
            self._title(words(query.title))
        if query.q:
            found = words(query.q)
            if not found:
                self.empty = True
            elif db.dialect == "sqlite":
                self._sqlite(found)
            else:
                self._postgres(found)

    def _title(self, found: list[str]) -> None:
        """Every word in the title field (stemmed like the free text; whole words, no prefix)."""
        if not found:
            self.empty = True
        elif self.db.dialect == "sqlite":
            self.params["title_match"] = " AND ".join(f'title : "{w}"' for w in found)
            self.where.append("d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :title_match)")
        else:
            self.params["title_match"] = " & ".join(f"{w}:A" for w in found)
            self.where.append("d.document @@ to_tsquery('english', :title_match)")

    def _sqlite(self, found: list[str]) -> None:
        self.params["match"] = fts_query(" ".join(found))
        self.match = "d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :match)"
        weights = ", ".join(str(w) for w in FIELD_WEIGHTS.values())
        bonus = []
        if len(found) == 1:
            # One word: it is in a field when BM25 weighing that field alone scores the hit (below 0), read in the
            # same pass over the hits as the rank, instead of one more full-text query a field.
            for position, weight in enumerate(FIELD_WEIGHTS.values()):
                alone = ", ".join("1" if i == position else "0" for i in range(len(FIELD_WEIGHTS)))
                bonus.append(f"CASE WHEN bm25(search_fts, {alone}) < 0 THEN {weight} ELSE 0 END")
            rank = f"-bm25(search_fts, {weights}) + {' + '.join(bonus)}"
            self.score = "round(f.rank, 4)"
        else:
            for position, word in enumerate(found):
                term = f'"{word}"*' if position == len(found) - 1 else f'"{word}"'
                for field, weight in FIELD_WEIGHTS.items():
                    key = f"m{position}_{field}"
                    self.params[key] = f"{field} : {term}"
                    bonus.append(f"CASE WHEN d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :{key}) "
                                 f"THEN {weight} ELSE 0 END")
            rank = f"-bm25(search_fts, {weights})"
            self.score = f"round(f.rank + {' + '.join(bonus)}, 4)"
        self.ranked_source = (f"(SELECT rowid AS doc, {rank} AS rank FROM search_fts WHERE search_fts MATCH :match) f "
                              "JOIN search_documents d{covering} ON d.id = f.doc")

    def _postgres(self, found: list[str]) -> None:
        self.params["match"] = ts_query(" ".join(found))
        self.match = "d.document @@ to_tsquery('english', :match)"
        bonus = []
        for position, word in enumerate(found):
            for field, label in POSTGRES_LABELS.items():
                key = f"m{position}_{field}"
                self.params[key] = f"{word}:*{label}" if position == len(found) - 1 else f"{word}:{label}"
                bonus.append(f"CASE WHEN d.document @@ to_tsquery('english', :{key}) "
                             f"THEN {FIELD_WEIGHTS[field]} ELSE 0 END")
        rank = "ts_rank(d.document, to_tsquery('english', :match), 1)"
        self.score = f"round(CAST({rank} + {' + '.join(bonus)} AS numeric), 4)"

    def _condition(self, extra: list[str], *, match: bool = True) -> str:
        clauses = self.where + extra + ([self.match] if match and self.match else [])
        return f" WHERE {' AND '.join(clauses)}" if clauses else ""

    @property
    def covering(self) -> str:
        """SQLite's hint to read the hits from the index of what a search reads of each (migration 0003): it
        would read each hit's wide row by its rowid, not choosing an index for it."""
        return " INDEXED BY search_documents_hits" if self.db.dialect == "sqlite" else ""

    def ids(self, columns: str = "d.id") -> str:
        """SQL of the ids of every hit (for the total and the facet counts), or of other ``columns`` of them
        (the index's columns only: id, facet_set, organization, license, name)."""
        return f"SELECT {columns} FROM search_documents d{self.covering}{self._condition([])}"

    def ranking(self, with_sets: bool = False) -> list[Ranked]:
        """Every hit's name, score and (``with_sets``) facet set, in the page order: a whole ranking reads no
        stored record."""
        sql, params = self._page_sql("d.name", None, 0, None, covering=True,
                                     last=", d.facet_set" if with_sets else ", NULL")
        rows = self.db.execute(sql, params).plain()
        if self.db.dialect == "sqlite":  # names are text and scores floats already: the rows as they are read
            return rows  # type: ignore[return-value]
        return [(name, float(score), found) for name, score, found in rows]

    def most(self) -> int:
        """How many documents the full-text query alone matches: at least the hits (the filters only narrow)."""
        if self.match is None:
            return int(self.db.execute(f"SELECT count(*) FROM ({self.ids()}) h", self.params).fetchone()[0])
        source = "search_fts WHERE search_fts MATCH :match" if self.db.dialect == "sqlite" \
            else f"search_documents d WHERE {self.match}"
        return int(self.db.execute(f"SELECT count(*) FROM {source}", {"match": self.params["match"]}).fetchone()[0])

    def page(self, limit: int | None, offset: int, after: tuple[str, str] | None) -> list[Any]:
        sql, params = self._page_sql("d.name, d.sort_title, d.columns, d.formats, d.record, d.summary", limit,
                                     offset, after)
        return list(self.db.execute(sql, params).fetchall())

    def _page_sql(self, columns: str, limit: int | None, offset: int, after: tuple[str, str] | None,
                  covering: bool = False, last: str = "") -> tuple[str, dict[str, Any]]:
        params = dict(self.params)
        extra = []
        if after is not None and not self.query.q and not self.order:
            extra.append("(d.sort_title > :after_title OR (d.sort_title = :after_title AND d.name > :after_name))")
            params.update(after_title=after[0], after_name=after[1])
        hint = self.covering if covering and not self.order else ""
        source = (self.ranked_source or "search_documents d{covering}").replace("{covering}", hint)
        where = self._condition(extra, match=self.ranked_source is None)  # SQLite's join matches already
        if self.order:
            ordering = ", ".join(f"{column} {'DESC' if descending else 'ASC'}" for column, descending in self.order)
            ordering += ", d.name"
        else:
            ordering = "score DESC, d.name" if self.query.q else "d.sort_title, d.name"
        sql = f"SELECT {columns}, {self.score} AS score{last} FROM {source}{where} ORDER BY {ordering}"
        if limit is not None:
            sql += " LIMIT :limit OFFSET :offset"
            params.update(limit=limit, offset=offset if after is None else 0)
        return sql, params


def _with_stored_hits(db: CatalogConnection, page: list[Any]) -> list[Any]:
    """The page's rows, each with its stored hit; a document written by the previous release's code during a
    rolling upgrade (migration 0002: its ``record`` is the column's default ``{}``) has its hit read from
    ``datasets`` as before (the next write of that dataset stores it)."""
    missing = [str(r["name"]) for r in page if r["record"] == "{}"]
    if not missing:
        return page
    marks = ", ".join("?" for _ in missing)
    rows = db.execute(f"SELECT d.*, s.latest_release FROM datasets d JOIN search_documents s ON s.name = d.name "
                      f"WHERE d.name IN ({marks})", missing).fetchall()
    read = {str(r["name"]): record_of_row(r) for r in rows}
    found = []
    for row in page:
        name = str(row["name"])
        if row["record"] != "{}":
            found.append(row)
        elif name in read:
            found.append({**dict(row), "record": read[name].model_dump_json(), "summary": summary_of(read[name])})
    return found


def facet_counts(db: CatalogConnection, hits: _Hits) -> dict[str, list[FacetValue]]:
    """Counts of each facet's values over every hit, most frequent first (at most FACET_VALUES a facet), in
    one statement: the hits grouped by their facet set, each set's values counted once with its hits' number.
    Documents without a set (written by the previous release's code) are counted from their own columns and
    ``search_terms``, as before (SQLite's CROSS JOIN: those hits are read first, not every term)."""
    join = "CROSS JOIN" if db.dialect == "sqlite" else "JOIN"
    sql = (
        f"WITH h AS MATERIALIZED ({hits.ids('d.id, d.facet_set')}), "
        "g AS (SELECT facet_set, count(*) AS n FROM h WHERE facet_set IS NOT NULL GROUP BY facet_set) "
        "SELECT v.facet, v.value, sum(g.n) AS n, max(v.title) AS title FROM g "
        "JOIN search_facet_values v ON v.facet_set = g.facet_set GROUP BY v.facet, v.value "
        "UNION ALL SELECT 'organization', d.organization, count(*), max(d.organization_title) "
        f"FROM h {join} search_documents d ON d.id = h.id WHERE h.facet_set IS NULL GROUP BY d.organization "
        "UNION ALL SELECT 'license', d.license, count(*), NULL "
        f"FROM h {join} search_documents d ON d.id = h.id WHERE h.facet_set IS NULL GROUP BY d.license "
        "UNION ALL SELECT t.facet, t.value, count(*), NULL "
        f"FROM h {join} search_terms t ON t.doc = h.id WHERE h.facet_set IS NULL GROUP BY t.facet, t.value"
    )
    counts: dict[tuple[str, str], list[Any]] = {}
    for facet, value, count, title in db.execute(sql, hits.params).fetchall():
        _count(counts, str(facet), str(value), int(count), None if title is None else str(title))
    return _facet_values(counts)


def _count(counts: dict[tuple[str, str], list[Any]], facet: str, value: str, n: int, title: str | None) -> None:
    """Add ``n`` hits to a facet value's [count, title] (the greatest title, as SQL's max would give)."""
    found = counts.setdefault((facet, value), [0, None])
    found[0] += n
    if title is not None and (found[1] is None or title > found[1]):
        found[1] = title


def _facet_values(counts: dict[tuple[str, str], list[Any]]) -> dict[str, list[FacetValue]]:
    """Each facet's values from (facet, value) → [count, title], most frequent first, at most FACET_VALUES."""
    values: dict[str, list[FacetValue]] = {name: [] for name in FACETS}
    for (facet, value), (count, title) in counts.items():
        values[facet].append(FacetValue(value=value, count=count, title=title))
    return {name: sorted(found, key=lambda v: (-v.count, v.value))[:FACET_VALUES] for name, found in values.items()}


@functools.lru_cache(maxsize=4096)
def _column_words(name: str) -> tuple[str, ...]:
    """The words of a column name (column names repeat across datasets: found once each)."""
    return tuple(words(name))


def _hit(row: Any, text: str | None) -> SearchHit:
    """A hit from its stored document: the dataset record as the document stores it (no read of ``datasets``)."""
    dataset = Dataset.model_validate_json(row["record"])
    columns: list[str] = json.loads(row["columns"])
    wanted = [q for q in words(text or "") if len(q) > 2]
    matched = [
        name for name in columns
        if wanted and any(w.startswith(q) or q.startswith(w) for q in wanted for w in _column_words(name))
    ] if wanted else []
    return SearchHit(dataset=dataset, score=float(row["score"]), formats=json.loads(row["formats"]),
                     columns=columns, matched_columns=matched)
