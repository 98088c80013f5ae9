""""Did you mean": a misspelt word that still finds a little gets a suggestion link, and the link finds more.

"wether" is a prefix of "Wetherby" (one dataset: the town's market stalls) and one edit from "weather"
(three datasets), so the search answers the one Wetherby dataset and suggests "weather". Checked on the
real app under uvicorn over HTTP (the API's ``suggestion`` and the page's link) and in headless Debian
Chromium (the link is followed with the keyboard and leads to the weather datasets), with axe-core on the
page at 1280 and 390 px.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests import axe
from tests.web_fixtures import (
    AIR_SCHEMA,
    NEEDS_CHROMIUM,
    CatalogHome,
    LiveServer,
    air_rows,
    browser_session,
    build_catalog_home,
    privacy_report,
)

WEATHER = {
    "weather-alerts": ("Weather alerts", "Severe weather warnings, watches and advisories."),
    "weather-stations": ("Weather stations", "Where the weather service measures, and what."),
    "weather-radar-sweeps": ("Weather radar sweeps", "Precipitation seen by the weather radar, every 5 minutes."),
}
WEATHER_TITLES = {title for title, _ in WEATHER.values()}


def suggestion_home(tmp_path: Path) -> CatalogHome:
    home = build_catalog_home(tmp_path)
    for day, (name, (title, description)) in enumerate(WEATHER.items(), start=5):
        home.add_dataset(name, "weather-service", "Weather Service", title=title, tags=["weather"],
                         description=description)
        home.publish(name, air_rows(4), AIR_SCHEMA, privacy_report(name, 4, {}, []), day=day)
    home.add_dataset("wetherby-market-stalls", "wetherby-town-council", "Wetherby Town Council",
                     title="Wetherby market stalls", tags=["markets"],
                     description="Stalls let at the Thursday market in Wetherby.")
    home.publish("wetherby-market-stalls", air_rows(3), AIR_SCHEMA,
                 privacy_report("wetherby-market-stalls", 3, {}, []), day=8)
    return home


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = suggestion_home(tmp_path_factory.mktemp("suggestion"))
    with LiveServer(home.settings) as live:
        yield live


def card_titles(page: str) -> set[str]:
    """The titles of the page's result cards."""
    return {html.unescape(t) for t in re.findall(r'<li class="card">\s*<h3><a href="[^"]*">([^<]*)</a></h3>', page)}


def test_a_misspelt_word_gets_a_suggestion_that_finds_more_over_http(server: LiveServer) -> None:
    answer = httpx.get(server.url + "/api/v1/datasets", params={"q": "wether"}).json()
    assert [d["name"] for d in answer["datasets"]] == ["wetherby-market-stalls"]
    assert answer["suggestion"] == "weather" and answer["corrected"] is None
    page = httpx.get(server.url + "/catalog", params={"q": "wether"}, headers={"Accept": "text/html"}).text
    (href,) = re.findall(r'<p class="notice" role="note">Did you mean <a href="([^"]*)">“weather”</a>\?</p>', page)
    href = html.unescape(href)
    assert parse_qs(urlparse(href).query)["q"] == ["weather"]
    assert card_titles(page) == {"Wetherby market stalls"}
    followed = httpx.get(server.url + href, headers={"Accept": "text/html"}).text
    assert card_titles(followed) == WEATHER_TITLES
    assert "Did you mean" not in followed  # a word spelt right suggests nothing


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with browser_session(tmp_path_factory.mktemp("suggestion-profile")) as driver:
        yield driver


@NEEDS_CHROMIUM
def test_the_suggestion_link_leads_to_results_in_the_browser(server: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server.url + "/catalog")
    browser.find_element(By.ID, "q").send_keys("wether", Keys.ENTER)
    WebDriverWait(browser, 15).until(lambda d: "q=wether" in d.current_url)
    assert browser.find_element(By.ID, "results-title").text == "1 dataset matching “wether”"
    link = browser.find_element(By.CSS_SELECTOR, "p.notice a")
    assert link.text == "“weather”" and link.find_element(By.XPATH, "..").text == "Did you mean “weather”?"
    link.send_keys(Keys.ENTER)  # followed from the keyboard
    WebDriverWait(browser, 15).until(lambda d: "q=weather" in d.current_url)
    WebDriverWait(browser, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert browser.find_element(By.ID, "results-title").text == "3 datasets matching “weather”"
    assert {a.text for a in browser.find_elements(By.CSS_SELECTOR, "ol.cards h3 a")} == WEATHER_TITLES


@NEEDS_CHROMIUM
@axe.NEEDS_AXE
@pytest.mark.parametrize("width", axe.WIDTHS, ids=lambda w: f"{w}px")
def test_axe_finds_no_violation_on_a_page_with_a_suggestion(server: LiveServer, browser: Any, width: int) -> None:
    browser.set_window_size(width, 900)
    try:
        axe.pages_clean(browser, server.url, ["/catalog?q=wether", "/catalog?q=wether&sort=updated"])
    finally:
        browser.set_window_size(1280, 900)
