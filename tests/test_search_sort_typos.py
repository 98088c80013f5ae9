"""Search people expect: sort (relevance, updated, name) on the API and the page, typo tolerance ("wether"
finds weather) on SQLite FTS5 and PostgreSQL, a "did you mean", and result cards with the last release,
rows, coverage and formats. Real catalogs, the real app."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from catalog.search import CatalogSearch, SearchQuery
from catalog.search_vocabulary import Vocabulary, distance
from catalog.store import open_catalog
from opendata.settings import Settings
from tests import catalog_fixtures
from tests.web_fixtures import AIR_SCHEMA, CatalogHome, air_rows, build_catalog_home, privacy_report

postgres_url = catalog_fixtures.postgres_url
catalog_url = catalog_fixtures.catalog_url


def add_weather(home: CatalogHome) -> None:
    home.add_dataset("weather-alerts", "weather-service", "Weather Service", title="Weather alerts",
                     tags=["weather", "alerts"], updated_at="2024-03-09T00:00:00Z",
                     description="Severe weather warnings, watches and advisories.")
    home.publish("weather-alerts", air_rows(5), AIR_SCHEMA, privacy_report("weather-alerts", 5, {}, []), day=9)


@pytest.fixture
def home(tmp_path: Path) -> CatalogHome:
    built = build_catalog_home(tmp_path)
    add_weather(built)
    return built


@pytest.fixture
def client(home: CatalogHome) -> TestClient:
    return home.client()


def names(answer: dict) -> list[str]:  # type: ignore[type-arg]
    return [d["name"] for d in answer["datasets"]]


def test_a_misspelt_word_finds_what_it_meant(client: TestClient) -> None:
    answer = client.get("/api/v1/datasets", params={"q": "wether"}).json()
    assert names(answer) == ["weather-alerts"] and answer["corrected"] == "weather"
    assert answer["q"] == "wether" and answer["total"] == 1
    for typed, meant, found in [("waether alerts", "weather alerts", "weather-alerts"),  # a swap
                                ("mesurements", "measurements", "air-quality"),  # a letter left out
                                ("boroguh", "borough", "city-311-requests")]:  # a column name
        answer = client.get("/api/v1/datasets", params={"q": typed}).json()
        assert (answer["corrected"], names(answer)[0]) == (meant, found), typed
    # a word spelt right is not "corrected", and nonsense finds nothing rather than something random
    right = client.get("/api/v1/datasets", params={"q": "weather"}).json()
    assert names(right) == ["weather-alerts"] and right["corrected"] is None and right["suggestion"] is None
    nothing = client.get("/api/v1/datasets", params={"q": "zzzqqq"}).json()
    assert nothing["datasets"] == [] and nothing["corrected"] is None


def test_the_page_says_what_it_searched_for(client: TestClient) -> None:
    page = client.get("/catalog", params={"q": "wether"}).text
    assert "No dataset matches “wether”" in page and "“weather”" in page and "Weather alerts" in page


def test_sort_by_relevance_updated_and_name(client: TestClient) -> None:
    listing = client.get("/api/v1/datasets", params={"sort": "name"}).json()
    assert names(listing) == ["city-311-requests", "air-quality", "weather-alerts"]  # by title: 311, Air, Weather
    assert listing["sort"] == "name"
    updated = client.get("/api/v1/datasets", params={"sort": "updated"}).json()
    assert names(updated)[0] == "weather-alerts"  # updated 2024-03-09, the others earlier
    # paging a sorted list follows the same order to the end
    first = client.get("/api/v1/datasets", params={"sort": "updated", "limit": 2}).json()
    rest = client.get("/api/v1/datasets", params={"sort": "updated", "limit": 2, "cursor": first["next"]}).json()
    assert names(first) + names(rest) == names(updated) and rest["next"] is None
    # with a query: relevance (the title match first) or name
    ranked = client.get("/api/v1/datasets", params={"q": "quality"}).json()
    assert names(ranked) == ["air-quality"]
    by_name = client.get("/api/v1/datasets", params={"q": "a", "sort": "name"}).json()
    titles = [d["title"].lower() for d in by_name["datasets"]]
    assert titles == sorted(titles) and len(titles) >= 2
    bad = client.get("/api/v1/datasets", params={"sort": "newest"})
    assert bad.status_code == 400 and "sort" in bad.text
    page = client.get("/catalog", params={"sort": "updated"}).text
    assert page.index("Weather alerts") < page.index("Air quality measurements")
    assert '<option value="updated" selected>' in page


def test_result_cards_show_last_release_rows_coverage_and_formats(client: TestClient) -> None:
    page = client.get("/catalog", params={"q": "air"}).text
    card = page[page.index("Air quality measurements"):]
    card = card[: card.index("</li>\n", card.index("formats"))]
    assert "Last release" in card and "2024-03-01 06:05 UTC" in card
    assert "<dd>72</dd>" in card  # rows
    assert "2024-05-01 to 2024-05-03" in card  # temporal coverage of measured_at (72 hours from May 1)
    assert "Parquet" in card and "CSV" in card
    assert "hourly at :00" in card or "every hour at :00" in card  # the schedule, in words


def test_a_prefix_of_a_word_is_not_taken_for_a_typo(home: CatalogHome) -> None:
    home.add_dataset("weathervane-sites", "weather-service", "Weather Service", title="Wetherby sites",
                     description="Sites near Wetherby.")
    home.publish("weathervane-sites", air_rows(3), AIR_SCHEMA, privacy_report("weathervane-sites", 3, {}, []))
    home.add_dataset("weather-stations", "weather-service", "Weather Service", title="Weather stations",
                     description="Stations.")
    home.publish("weather-stations", air_rows(3), AIR_SCHEMA, privacy_report("weather-stations", 3, {}, []))
    result = CatalogSearch(home.catalog).find(SearchQuery(q="wetherb"))  # a prefix of Wetherby: one hit
    assert [h.dataset.name for h in result.hits] == ["weathervane-sites"]
    assert result.corrected is None and result.suggestion is None  # "wetherb" is a prefix, not a typo


def test_nearest_words_and_their_distance() -> None:
    assert distance("wether", "weather") == 1 and distance("waether", "weather") == 1
    assert distance("kitten", "sitting") == 3
    vocabulary = Vocabulary.of([["Weather alerts"], ["Leather goods"], ["Weather stations"]])
    assert vocabulary.nearest("wether") == "weather"  # one edit from both; weather is in more datasets
    assert vocabulary.nearest("weather") is None and vocabulary.nearest("ab") is None
    assert vocabulary.nearest("wxyz") is None  # short words allow one edit only
    assert vocabulary.correct(["wether", "alerts"]) == ["weather", "alerts"]
    assert vocabulary.correct(["alerts"]) is None


def test_typo_tolerance_on_postgresql(tmp_path: Path, catalog_url: str) -> None:
    settings = Settings(home=tmp_path / "home", catalog_url=catalog_url, rate_limit_anonymous=100_000)
    settings.paths.ensure()
    home = CatalogHome(settings, open_catalog(settings))
    add_weather(home)
    home.add_dataset("air-quality", "environment-agency", "Environment Agency", title="Air quality measurements",
                     description="Hourly fine particulate matter.", updated_at="2024-03-01T00:00:00Z")
    home.publish("air-quality", air_rows(4), AIR_SCHEMA, privacy_report("air-quality", 4, {}, []))
    search = CatalogSearch(home.catalog)
    result = search.find(SearchQuery(q="wether"))
    assert [h.dataset.name for h in result.hits] == ["weather-alerts"] and result.corrected == "weather"
    assert [h.dataset.name for h in search.find(SearchQuery(), sort="updated").hits] == ["weather-alerts",
                                                                                         "air-quality"]
    answer = home.client().get("/api/v1/datasets", params={"q": "mesurements"}).json()
    assert names(answer)[0] == "air-quality" and answer["corrected"] == "measurements"


def test_a_stale_vocabulary_answers_while_the_new_one_is_read_on_its_thread(
        home: CatalogHome, monkeypatch: pytest.MonkeyPatch) -> None:
    version = [1]
    search = CatalogSearch(open_catalog(home.settings), version=lambda: version[0])
    first = search.vocabulary()
    assert "weather" in first and "hydrology" not in first
    home.add_dataset("rivers", "weather-service", "Weather Service", title="Hydrology gauges", tags=["rivers"])
    home.publish("rivers", air_rows(2), AIR_SCHEMA, privacy_report("rivers", 2, {}, []))
    assert search.vocabulary() is first  # the catalog has not changed as far as the search knows
    version[0] = 2
    monkeypatch.setattr("catalog.search.REBUILD_SECONDS", 0.0)
    assert search.vocabulary() is first  # changed: the words read before answer at once ...
    deadline = time.monotonic() + 30
    while search.vocabulary() is first and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "hydrology" in search.vocabulary()  # ... and the new ones, read on a thread, answer next
    assert search.find(SearchQuery(q="hydrolgy")).corrected == "hydrology"
