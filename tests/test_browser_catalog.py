"""End-to-end in a real browser: headless Debian Chromium, driven by Selenium through Debian's chromedriver,
against the real app under uvicorn. Search, open a dataset, follow an API example, open a report; keyboard
use and a phone-sized window.

Skipped only when Chromium is not installed here and CI is not set; under CI they must run (.ci/run
installs chromium and chromium-driver).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web_fixtures import NEEDS_CHROMIUM, LiveServer, browser_session, build_catalog_home

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = build_catalog_home(tmp_path_factory.mktemp("browser"))
    with LiveServer(home.settings) as live:
        yield live


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with browser_session(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


def by(kind: str) -> Any:
    from selenium.webdriver.common.by import By

    return getattr(By, kind)


def navigated(browser: Any, url_part: str, *, ends: bool = False) -> None:
    """Wait for the navigation a key press or click started; reading the page before it lands is a race."""
    from selenium.webdriver.support.ui import WebDriverWait

    def arrived(driver: Any) -> bool:
        url = driver.current_url
        return url.endswith(url_part) if ends else url_part in url

    WebDriverWait(browser, 15).until(arrived)
    WebDriverWait(browser, 15).until(lambda driver: driver.execute_script("return document.readyState") == "complete")


def test_search_open_a_dataset_follow_an_api_example_and_open_a_report(server: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.keys import Keys

    browser.get(server.url + "/catalog")
    assert browser.title == "Datasets · Open data"
    box = browser.find_element(by("ID"), "q")
    box.send_keys("borough", Keys.ENTER)
    navigated(browser, "q=borough")
    heading = browser.find_element(by("ID"), "results-title").text
    assert heading == "1 dataset matching “borough”"
    assert "q=borough" in browser.current_url

    browser.find_element(by("LINK_TEXT"), "311 service requests").click()
    navigated(browser, "/datasets/city-311-requests", ends=True)
    assert browser.find_element(by("TAG_NAME"), "h1").text == "311 service requests"
    assert browser.current_url.endswith("/datasets/city-311-requests")

    browser.find_element(by("ID"), "try-example").click()
    navigated(browser, "/rows")
    body = json.loads(browser.find_element(by("TAG_NAME"), "body").text)
    assert len(body["rows"]) == 5 and body["next"]

    browser.back()
    navigated(browser, "/datasets/city-311-requests", ends=True)
    links = {a.text: a.get_attribute("href") for a in browser.find_elements(by("CSS_SELECTOR"), "#about a.button")}
    assert links.get("Privacy report") and links.get("Validation report"), links  # the report pages are ours
    for report in (links["Privacy report"], links["Validation report"]):
        browser.get(report)
        assert "report" in browser.find_element(by("TAG_NAME"), "h1").text.lower()


def test_facets_and_the_skip_link_work_from_the_keyboard(server: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    browser.get(server.url + "/catalog")
    ActionChains(browser).send_keys(Keys.TAB).perform()
    skip = browser.switch_to.active_element
    assert skip.text == "Skip to content"
    skip.send_keys(Keys.ENTER)
    assert browser.current_url.endswith("#main")

    facet = browser.find_element(by("CSS_SELECTOR"), ".facet a[href*='license=CC0-1.0']")
    facet.send_keys(Keys.ENTER)
    navigated(browser, "license=CC0-1.0")
    assert browser.find_element(by("ID"), "results-title").text == "1 dataset"
    titles = [e.text for e in browser.find_elements(by("CSS_SELECTOR"), ".card h3")]
    assert titles == ["Air quality measurements"]
    active = browser.find_element(by("CSS_SELECTOR"), ".facet a[aria-current='true']")
    assert active.text.startswith("CC0-1.0")


def test_pages_fit_a_phone_screen(server: LiveServer, browser: Any) -> None:
    browser.set_window_size(390, 844)
    try:
        for path in ("/catalog", "/datasets/city-311-requests", "/runs"):
            browser.get(server.url + path)
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (path, overflow)
    finally:
        browser.set_window_size(1280, 900)


def test_the_runs_page_in_the_browser(server: LiveServer, browser: Any) -> None:
    browser.get(server.url + "/runs")
    failed = browser.find_element(by("CSS_SELECTOR"), "tr.failed .error").text
    assert failed.startswith("source unavailable")
    browser.find_element(by("LINK_TEXT"), "Only this job").click()
    navigated(browser, "dataset=")


def test_the_screenshot_helper_writes_pngs(tmp_path: Path) -> None:
    from tests.web_fixtures import take_screenshots

    home = build_catalog_home(tmp_path)
    shots = take_screenshots(home.settings.home, tmp_path / "shots", [("home.png", "/catalog", 800, 600)])
    assert shots[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
