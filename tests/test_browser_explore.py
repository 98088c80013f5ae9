"""The map and the row explorer on the real NYC 311 demo, in headless Debian Chromium against the real app:
the demo job is published in a module fixture (its coordinates are rounded to about 100 m by its policy).

The map draws the rows' points from the public rows API with the vendored Leaflet, with a scale and no
tiles (none configured: nothing is loaded from elsewhere); the explorer filters, sorts and pages rows
from the keyboard alone; axe-core finds no WCAG 2.1 AA violation on these pages at 1280 and 390 px.
Skipped only when Chromium or axe-core is missing and CI is not set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from opendata.settings import Settings
from publishers.runner import run_job
from tests import axe
from tests.web_fixtures import NEEDS_CHROMIUM, LiveServer, browser_session

pytestmark = NEEDS_CHROMIUM
JOB = Path(__file__).resolve().parent.parent / "datasets" / "city" / "requests.yaml"
PAGE = "/datasets/city-311-requests"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(home=tmp_path_factory.mktemp("demo-311"), pseudonym_key="demo-key-for-the-test-only",
                        rate_limit_anonymous=100_000)
    settings.paths.ensure()
    assert run_job(JOB, settings).run.state == "succeeded"
    return settings


@pytest.fixture(scope="module")
def server(demo: Settings) -> Iterator[LiveServer]:
    with LiveServer(demo) as live:
        yield live


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with browser_session(tmp_path_factory.mktemp("explore-profile")) as driver:
        yield driver


def by(kind: str) -> Any:
    from selenium.webdriver.common.by import By

    return getattr(By, kind)


def wait(browser: Any, condition: Any, seconds: float = 20) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds).until(condition)


def test_the_map_draws_the_311_points_without_tiles(server: LiveServer, browser: Any) -> None:
    browser.get(server.url + PAGE)
    box = browser.find_element(by("ID"), "map-canvas")
    wait(browser, lambda _: box.get_attribute("data-drawn"))
    drawn = int(box.get_attribute("data-drawn"))
    expected = httpx.get(box.get_attribute("data-features")).json()["rows"]
    assert drawn == len(expected) > 500  # one point per row with coordinates (the first 1,000 at most)
    markers = browser.find_elements(by("CSS_SELECTOR"), "#map-canvas path.leaflet-interactive")
    assert len(markers) == drawn
    west, south, east, north = (float(v) for v in box.get_attribute("data-extent").split(","))
    assert -74.3 < west < east < -73.6 and 40.4 < south < north < 41.0  # New York City
    assert browser.find_elements(by("CSS_SELECTOR"), "#map-canvas .leaflet-control-scale-line")
    assert not browser.find_elements(by("CSS_SELECTOR"), "#map-canvas img.leaflet-tile")  # no tiles set
    assert "map-plain" in box.get_attribute("class")
    status = browser.find_element(by("ID"), "map-status").text
    assert status.startswith(f"Drawn: {drawn:,} features") and "extent latitude 40." in status
    scripts = [s.get_attribute("src") for s in browser.find_elements(by("CSS_SELECTOR"), "script[src]")]
    assert all(s.startswith(server.url) for s in scripts)  # our own static route, nothing from a CDN
    assert any(s.endswith("/static/vendor/leaflet/leaflet.js") for s in scripts)
    # the map takes the keyboard (Leaflet's keyboard handler): focused, "+" zooms in
    before = float(box.get_attribute("data-zoom"))
    box.send_keys("+")
    wait(browser, lambda _: float(box.get_attribute("data-zoom")) > before)
    assert browser.switch_to.active_element == box
    assert box.get_attribute("aria-label") == "Map of 311 service requests"


def test_the_explorer_filters_sorts_and_pages_from_the_keyboard(server: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    browser.get(server.url + PAGE + "#explore")
    form = browser.find_element(by("ID"), "explorer")
    assert form.is_displayed()  # shown by its script (hidden without one)
    Select(browser.find_element(by("ID"), "ex-column")).select_by_value("borough")
    Select(browser.find_element(by("ID"), "ex-sort")).select_by_value("unique_key")
    Select(browser.find_element(by("ID"), "ex-direction")).select_by_value("-")
    value = browser.find_element(by("ID"), "ex-value")
    value.send_keys("BROOKLYN", Keys.ENTER)  # Enter submits: no pointer needed
    wait(browser, lambda d: d.find_elements(by("CSS_SELECTOR"), "#explore-results tbody tr"))
    headers = [th.text for th in browser.find_elements(by("CSS_SELECTOR"), "#explore-results thead th")]
    position = headers.index("borough")
    key = next(i for i, h in enumerate(headers) if h.startswith("unique_key"))

    def column(i: int) -> list[str]:  # read in one script call: the table is replaced on every load
        found: list[str] = browser.execute_script(
            "return Array.from(document.querySelectorAll('#explore-results tbody tr'))"
            ".map((tr) => tr.cells[arguments[0]].textContent)", i)
        return found

    first = column(key)
    assert len(first) == 25 and set(column(position)) == {"BROOKLYN"}
    assert [int(k) for k in first] == sorted((int(k) for k in first), reverse=True)
    sorted_th = browser.find_element(by("CSS_SELECTOR"), "#explore-results th[aria-sort]")
    assert sorted_th.get_attribute("aria-sort") == "descending" and sorted_th.text.startswith("unique_key")
    assert "more follow" in browser.find_element(by("ID"), "explore-status").text

    browser.find_element(by("ID"), "ex-next").send_keys(Keys.ENTER)
    wait(browser, lambda _: column(key) and column(key)[0] != first[0])
    second = column(key)
    assert int(second[0]) < int(first[-1]) and set(column(position)) == {"BROOKLYN"}
    browser.find_element(by("ID"), "ex-prev").send_keys(Keys.ENTER)
    wait(browser, lambda _: column(key) and column(key)[0] == first[0])

    # a sortable header is a button: Enter on it sorts ascending by that column
    button = browser.find_element(by("CSS_SELECTOR"), "#explore-results thead th button")
    name = button.text.split(" ")[0]
    button.send_keys(Keys.ENTER)
    wait(browser, lambda d: d.find_elements(by("CSS_SELECTOR"), "#explore-results th[aria-sort='ascending']"))
    link = browser.find_element(by("CSS_SELECTOR"), "#explore-results .api-url a").get_attribute("href")
    assert "/api/v1/datasets/city-311-requests/rows?" in link and f"order={name}" in link

    # a filter the API refuses is said in words, not a blank table
    Select(browser.find_element(by("ID"), "ex-column")).select_by_value("latitude")
    Select(browser.find_element(by("ID"), "ex-operator")).select_by_value("gt")
    value = browser.find_element(by("ID"), "ex-value")
    value.clear()
    value.send_keys("north", Keys.ENTER)
    wait(browser, lambda d: "refused" in d.find_element(by("ID"), "explore-status").text)


def test_the_page_is_whole_without_javascript(server: LiveServer) -> None:
    page = httpx.get(server.url + PAGE).text
    assert '<form id="explorer"' in page and "hidden>" in page.split('<form id="explorer"')[1].split("\n")[0]
    assert "Sample rows" in page and "<noscript>" in page and "export.geojson" in page
    assert "within latitude 40." in page  # the map's extent in words, from the profile
    assert 'role="img"' in page and "rows per day; created_date" in page  # server-rendered charts
    assert "value after" in page and "not shown (outliers)" in page  # the November request is named, not drawn
    assert "~" not in page.split('id="profile"')[1].split('id="sample"')[0]  # exact distinct counts
    organisation = httpx.get(server.url + "/organizations/city-311").text
    assert "About City 311 Customer Service Center" in organisation and "https://portal.311.nyc.gov/" in organisation


@axe.NEEDS_AXE
@pytest.mark.parametrize("width", axe.WIDTHS, ids=lambda w: f"{w}px")
def test_axe_finds_no_violation_on_the_map_explorer_search_and_organisation(
    server: LiveServer, browser: Any, width: int
) -> None:
    from selenium.webdriver.common.keys import Keys

    browser.set_window_size(width, 900)
    failures = {}
    try:
        for path in (PAGE, "/catalog?q=complants&sort=updated", "/catalog?sort=name", "/organizations/city-311"):
            browser.get(server.url + path)
            if path == PAGE:
                wait(browser, lambda d: d.find_element(by("ID"), "map-canvas").get_attribute("data-drawn"))
                browser.find_element(by("ID"), "ex-value").send_keys(Keys.ENTER)  # the explorer's table too
                wait(browser, lambda d: d.find_elements(by("CSS_SELECTOR"), "#explore-results tbody tr"))
                overflow = browser.execute_script(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert overflow <= 0, (width, overflow)
            found = axe.violations(browser)
            if found:
                failures[path] = axe.describe(found)
    finally:
        browser.set_window_size(1280, 900)
    assert not failures, f"at {width} px:\n" + "\n".join(f"{p}:\n{d}" for p, d in failures.items())


def test_tiles_come_from_the_configured_url(demo: Settings, browser: Any) -> None:
    """With OPENDATA_MAP_TILES_URL set, the map loads its tiles from there (here: a PNG of our own static
    route, so the test needs no network) and shows the configured attribution."""
    tiles = "/static/vendor/leaflet/images/layers.png?z={z}&x={x}&y={y}"  # a site-relative template works too
    settings = demo.model_copy(update={"map_tiles_url": tiles, "map_tiles_attribution": "Tiles: test server"})
    with LiveServer(settings) as live:
        browser.get(live.url + PAGE)
        wait(browser, lambda d: d.find_elements(by("CSS_SELECTOR"), "#map-canvas img.leaflet-tile"))
        source = browser.find_element(by("CSS_SELECTOR"), "#map-canvas img.leaflet-tile").get_attribute("src")
        assert source.startswith(live.url + "/static/vendor/leaflet/images/layers.png?z=")
        assert "Tiles: test server" in browser.find_element(by("CSS_SELECTOR"), ".leaflet-control-attribution").text
        assert "map-plain" not in browser.find_element(by("ID"), "map-canvas").get_attribute("class")
