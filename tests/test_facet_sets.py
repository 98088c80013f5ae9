"""Facet sets (migration 0003) and the one-pass rank of a one-word search, on both catalog databases.

Each search document names the set of its facet values (organisation and its title, licence, tags,
formats), shared by every document with the same values; a search's facet counts group its hits by set.
The counts are checked against counts made here from the datasets' own records, also for documents written
by the previous release's code (no set), and for a retitled organisation. A one-word search ranks in one
pass over the full-text index; its scores are checked against the per-field formula it replaces."""

from __future__ import annotations

from collections import Counter
from typing import Any

from catalog.search import FIELD_WEIGHTS, CatalogSearch, SearchQuery, release_formats
from catalog.store import Catalog, open_catalog
from opendata.settings import Settings
from tests import catalog_fixtures, test_catalog_scale
from tests.test_catalog_scale import add

postgres_url = catalog_fixtures.postgres_url
catalog_url = catalog_fixtures.catalog_url
backend = test_catalog_scale.backend  # each test on SQLite and on PostgreSQL


def _catalog(settings: Settings) -> Catalog:
    catalog = open_catalog(settings)
    for i in range(18):
        add(catalog, settings, i, organization=f"org-{i % 4}")
    add(catalog, settings, 40, title="Air monitors", description="Air quality by borough.", columns=("borough", "pm25"))
    add(catalog, settings, 41, title="Bus air conditioning", organization="org-9")
    return catalog


def _expected(catalog: Catalog, names: list[str]) -> dict[str, dict[str, int]]:
    """Each facet's counts over ``names``, made from the datasets' records and latest releases."""
    counts: dict[str, Counter[str]] = {"organization": Counter(), "license": Counter(), "tag": Counter(),
                                       "format": Counter()}
    for name in names:
        dataset, releases = catalog.published_dataset(name)
        assert dataset is not None and releases
        counts["organization"][dataset.organization] += 1
        counts["license"][dataset.license] += 1
        counts["tag"].update(set(dataset.tags))
        counts["format"].update(release_formats(releases[-1]))
    return {facet: dict(found) for facet, found in counts.items()}


def _found(result: Any) -> dict[str, dict[str, int]]:
    return {facet: {v.value: v.count for v in values} for facet, values in result.facets.items()}


QUERIES = [SearchQuery(), SearchQuery(q="air"), SearchQuery(q="daily"), SearchQuery(organization="org-1"),
           SearchQuery(tag="water"), SearchQuery(q="air", license="CC0-1.0"), SearchQuery(format="Parquet", q="bor")]


def test_facet_counts_from_sets_match_the_datasets_records(backend: Settings) -> None:
    catalog = _catalog(backend)
    search = CatalogSearch(catalog)
    for query in QUERIES:
        result = search.search(query)
        names = [h.dataset.name for h in result.hits]
        assert result.total == len(names) > 0, query
        assert _found(result) == _expected(catalog, names), query
    with catalog.database.connect() as db:
        sets = int(db.execute("SELECT count(DISTINCT facet_set) FROM search_documents").fetchone()[0])
        documents = int(db.execute("SELECT count(*) FROM search_documents WHERE facet_set IS NOT NULL").fetchone()[0])
    assert documents == 20 and sets < documents  # datasets with the same values share one set


def test_documents_without_a_set_are_counted_as_before(backend: Settings) -> None:
    """A rolling upgrade: documents written by the previous release's code name no set."""
    catalog = _catalog(backend)
    search = CatalogSearch(catalog)
    before = {query: (search.search(query).total, _found(search.search(query))) for query in QUERIES}
    with catalog.database.transaction() as db:
        db.execute("UPDATE search_documents SET facet_set = NULL WHERE id % 2 = 0")
        assert db.execute("SELECT count(*) FROM search_documents WHERE facet_set IS NULL").fetchone()[0] > 0
    for query in QUERIES:
        assert (search.search(query).total, _found(search.search(query))) == before[query], query
    titles = {v.value: v.title for v in search.search(SearchQuery()).facets["organization"]}
    assert titles["org-1"] == "Organisation org-1"


def test_a_retitled_organisation_moves_its_documents_to_a_new_set(backend: Settings) -> None:
    catalog = _catalog(backend)
    search = CatalogSearch(catalog)
    catalog.upsert_organization("org-2", "Renamed agency")
    facets = search.search(SearchQuery()).facets["organization"]
    assert {v.value: v.title for v in facets}["org-2"] == "Renamed agency"
    assert {v.value: v.count for v in facets}["org-2"] == 4  # ds-002, 006, 010, 014
    with catalog.database.connect() as db:
        titles = {r[0] for r in db.execute(
            "SELECT v.title FROM search_documents d JOIN search_facet_values v ON v.facet_set = d.facet_set "
            "WHERE d.organization = 'org-2' AND v.facet = 'organization'").fetchall()}
    assert titles == {"Renamed agency"}


def test_a_one_word_search_scores_as_the_per_field_formula(settings: Settings) -> None:
    """SQLite: the one-pass rank (BM25 of each field alone tells which fields hold the word) gives the same
    scores as BM25 plus one full-text query per field."""
    catalog = _catalog(settings)
    search = CatalogSearch(catalog)
    weights = ", ".join(str(w) for w in FIELD_WEIGHTS.values())
    for word in ("air", "bor", "daily", "monitor", "organisation"):
        bonus = " + ".join(
            f"CASE WHEN d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH '{field} : \"{word}\"*') "
            f"THEN {weight} ELSE 0 END" for field, weight in FIELD_WEIGHTS.items())
        with catalog.database.connect() as db:
            expected = {str(name): float(score) for name, score in db.execute(
                f"SELECT d.name, round(-bm25(search_fts, {weights}) + {bonus}, 4) FROM search_fts "
                f"JOIN search_documents d ON d.id = search_fts.rowid WHERE search_fts MATCH '\"{word}\"*'").fetchall()}
        found = {h.dataset.name: h.score for h in search.search(SearchQuery(q=word)).hits}
        assert found == expected and found, word
        if word == "air":  # in titles, tags, a description: the fields tell the hits apart
            assert len(set(found.values())) > 2, found


def test_a_kept_ranked_search_reads_ranking_total_and_facets_in_one_pass_as_the_separate_queries(
        backend: Settings) -> None:
    """With the catalog's change counter a ranked search reads its ranking, total and facet sets in one pass;
    it answers as the separate ranking, count and facet queries do (a search without the counter), also for
    documents without a set, and follows a change of the catalog."""
    catalog = _catalog(backend)
    changes = [0]
    kept, separate = CatalogSearch(catalog, version=lambda: changes[0]), CatalogSearch(catalog)
    ranked = [q for q in QUERIES if q.q] + [SearchQuery(q="air", organization="org-9"), SearchQuery(q="monitors")]

    def answers(search: CatalogSearch, query: SearchQuery) -> tuple[Any, ...]:
        first, rest = search.search(query, limit=2), search.search(query, limit=50, offset=2)
        return (first.total, _found(first), [(h.dataset.name, h.score) for h in first.hits + rest.hits])

    for query in ranked:
        assert answers(kept, query) == answers(separate, query), query
        assert answers(kept, query)[0] > 0, query
    with catalog.database.transaction() as db:
        db.execute("UPDATE search_documents SET facet_set = NULL WHERE id % 3 = 0")
    changes[0] += 1
    for query in ranked:
        assert answers(kept, query) == answers(separate, query), query
    add(catalog, backend, 60, title="Air sensors", organization="org-9")
    changes[0] += 1
    after = kept.search(SearchQuery(q="air"))
    assert "ds-060" in [h.dataset.name for h in after.hits]
    assert {v.value: v.count for v in after.facets["organization"]}["org-9"] == 2
