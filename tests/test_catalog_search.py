"""Catalog search: ranking, stemming and prefixes, column names, filters and facets; and its API."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.search import CatalogSearch, SearchQuery, fts_query
from tests.web_fixtures import CatalogHome, air_rows, build_catalog_home, privacy_report


@pytest.fixture
def home(tmp_path: Path) -> CatalogHome:
    return build_catalog_home(tmp_path)


def names(home: CatalogHome, **query: str) -> list[str]:
    return [h.dataset.name for h in CatalogSearch(home.catalog).search(SearchQuery(**query)).hits]


def test_without_a_query_every_published_dataset_is_listed_by_title(home: CatalogHome) -> None:
    # by title ("311 service requests" < "Air quality ..."); bus-stops awaits approval, so it is not public
    assert names(home) == ["city-311-requests", "air-quality"]


def test_words_are_stemmed_and_the_last_one_is_a_prefix(home: CatalogHome) -> None:
    assert names(home, q="request") == ["city-311-requests"]
    assert names(home, q="measurement") == ["air-quality"]
    assert names(home, q="parti") == ["air-quality"]  # "particulate", as typed so far
    assert names(home, q="air requests") == []  # every word must match


def test_column_names_are_searched_and_reported(home: CatalogHome) -> None:
    result = CatalogSearch(home.catalog).search(SearchQuery(q="borough"))
    assert [h.dataset.name for h in result.hits] == ["city-311-requests"]
    assert result.hits[0].matched_columns == ["borough"]
    assert names(home, q="pm25") == ["air-quality"]


def test_a_title_match_ranks_above_a_description_match(home: CatalogHome) -> None:
    home.add_dataset("noise-complaints", "city-of-example", "City of Example 311", title="Noise complaints",
                     description="Quality of life complaints about noise.")
    home.publish("noise-complaints", air_rows(3), {"fields": [{"name": "station", "type": "string"}]},
                 privacy_report("noise-complaints", 3, {}, []))
    # "quality": in air-quality's title, only in noise-complaints' description
    hits = CatalogSearch(home.catalog).search(SearchQuery(q="quality")).hits
    assert [h.dataset.name for h in hits] == ["air-quality", "noise-complaints"]
    assert hits[0].score > hits[1].score > 0


def test_filters_and_facets(home: CatalogHome) -> None:
    search = CatalogSearch(home.catalog)
    result = search.search(SearchQuery())
    facets = {name: {v.value: v.count for v in values} for name, values in result.facets.items()}
    assert facets["organization"] == {"city-of-example": 1, "environment-agency": 1}
    assert facets["license"] == {"CC-BY-4.0": 1, "CC0-1.0": 1}
    assert facets["tag"]["air"] == 1 and facets["tag"]["311"] == 1
    assert facets["format"] == {"Parquet": 2, "CSV": 2, "JSON": 2, "Data Package": 2}
    titles = {v.value: v.title for v in result.facets["organization"]}
    assert titles["environment-agency"] == "Environment Agency"

    assert names(home, organization="environment-agency") == ["air-quality"]
    assert names(home, tag="311") == ["city-311-requests"]
    assert names(home, license="CC0-1.0") == ["air-quality"]
    assert names(home, format="Parquet") == ["city-311-requests", "air-quality"]
    assert names(home, format="Shapefile") == []
    narrowed = search.search(SearchQuery(tag="air"))
    assert {v.value for v in narrowed.facets["organization"]} == {"environment-agency"}


def test_the_index_follows_the_catalog(home: CatalogHome) -> None:
    search = CatalogSearch(home.catalog)
    assert [h.dataset.name for h in search.search(SearchQuery(q="lanterns")).hits] == []
    home.add_dataset("street-lanterns", "city-of-example", "City of Example 311", title="Street lanterns")
    home.publish("street-lanterns", air_rows(2), {"fields": [{"name": "station", "type": "string"}]},
                 privacy_report("street-lanterns", 2, {}, []))
    assert [h.dataset.name for h in search.search(SearchQuery(q="lanterns")).hits] == ["street-lanterns"]


def test_query_text_cannot_inject_fts_syntax() -> None:
    assert fts_query('title: "x" OR NEAR(a b) *') == '"title" AND "x" AND "or" AND "near" AND "a" AND "b"*'
    assert fts_query("  -- ;; ") is None


def test_the_datasets_api_searches_ranks_and_counts_facets(home: CatalogHome) -> None:
    client = home.client()
    body = client.get("/api/v1/datasets", params={"q": "borough"}).json()
    assert body["q"] == "borough" and body["count"] == 1
    assert body["datasets"][0]["name"] == "city-311-requests"
    assert set(body["datasets"][0]) >= {"name", "title", "description", "organization", "license", "tags",
                                        "latest_release", "url"}
    assert {v["value"]: v["count"] for v in body["facets"]["tag"]} == {"311": 1, "service-requests": 1, "city": 1}

    everything = client.get("/api/v1/datasets").json()
    assert everything["count"] == 2 and everything["q"] is None
    assert client.get("/api/v1/datasets", params={"tag": "air", "organization": "city-of-example"}).json()["count"] == 0
    assert client.get("/api/v1/datasets", params={"license": "CC0-1.0"}).json()["datasets"][0]["name"] == "air-quality"
    too_long = client.get("/api/v1/datasets", params={"q": "x" * 201})
    assert too_long.status_code == 400 and too_long.json()["error"]["type"] == "invalid-parameter"
