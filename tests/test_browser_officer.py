"""The privacy officer in a real browser (headless Debian Chromium, Selenium) against the real app under uvicorn:
sign in, find a pending release in the inbox, read it, approve it and see the decision confirmed; the same by
keyboard only; reject through its confirmation page; the report on a phone; the report links on every
dataset page. Skipped only when Chromium is missing and CI is not set."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from catalog.store import Catalog
from tests.officer_fixtures import OfficerHome, build_officer_home
from tests.web_fixtures import NEEDS_CHROMIUM, LiveServer, browser_session, build_catalog_home

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> OfficerHome:
    return build_officer_home(tmp_path_factory.mktemp("officer-browser"), more=("third-requests",))


@pytest.fixture(scope="module")
def server(home: OfficerHome) -> Iterator[LiveServer]:
    with LiveServer(home.settings) as live:
        yield live


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with browser_session(tmp_path_factory.mktemp("officer-profile")) as driver:
        yield driver


def find(browser: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, css)


def arrived(browser: Any, part: str) -> None:
    """Wait for the navigation to land (the sign-in page's own URL holds "next=/approvals": not there yet)."""
    from selenium.webdriver.support.ui import WebDriverWait

    def landed(driver: Any) -> bool:
        url = driver.current_url
        return part in url and (part == "/sign-in" or "/sign-in" not in url)

    WebDriverWait(browser, 15).until(landed)
    WebDriverWait(browser, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")


def state(home: OfficerHome, dataset: str, number: int) -> str:
    return Catalog(home.settings.paths.catalog_db).release(dataset, number, published_only=False).state


def signed_out(browser: Any, server: LiveServer) -> None:
    browser.delete_all_cookies()
    browser.get(server.url + "/approvals")
    arrived(browser, "/sign-in")


def test_the_officer_signs_in_finds_reads_and_approves(server: LiveServer, browser: Any, home: OfficerHome) -> None:
    signed_out(browser, server)  # the inbox sends a stranger to the sign-in page
    find(browser, "#key").send_keys(home.keys["officer"])
    find(browser, "form.sign-in button").click()
    arrived(browser, "/approvals")
    cookie = browser.get_cookie("opendata_session")
    assert cookie and cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
    assert browser.execute_script("return document.cookie") == ""  # out of reach of scripts
    assert find(browser, "h1").text == "Releases awaiting approval"
    find(browser, "a[href$='/datasets/service-requests/releases/2/privacy'].button").click()
    arrived(browser, "/datasets/service-requests/releases/2/privacy")
    assert "What k-anonymity protects against" in find(browser, "main").text
    assert "quasi_identifiers:" in find(browser, "pre.policy").text
    find(browser, "#reason").send_keys("k = 2 holds after rounding; e-mails pseudonymised")
    find(browser, "button.approve").click()
    arrived(browser, "decided=approved")
    assert "was approved by officer-key" in find(browser, ".outcome").text
    assert state(home, "service-requests", 2) == "published"
    browser.get(server.url + "/approvals")  # the inbox no longer lists it
    assert "service-requests" not in find(browser, "main").text


def tab_to(browser: Any, matches: Any, limit: int = 60) -> Any:
    """Press Tab until the focused element satisfies ``matches``; the element."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for _ in range(limit):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.switch_to.active_element
        if matches(focused):
            return focused
    raise AssertionError("Tab never reached the element")


def test_keyboard_only_sign_in_and_approval(server: LiveServer, browser: Any, home: OfficerHome) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    signed_out(browser, server)
    tab_to(browser, lambda e: e.get_attribute("id") == "key").send_keys(home.keys["officer"], Keys.ENTER)
    arrived(browser, "/approvals")
    review = "/datasets/other-requests/releases/1/privacy"
    tab_to(browser, lambda e: (e.get_attribute("href") or "").endswith(review)).send_keys(Keys.ENTER)
    arrived(browser, review)
    tab_to(browser, lambda e: e.get_attribute("id") == "reason")
    ActionChains(browser).send_keys("read by keyboard; the rounding holds").perform()
    button = tab_to(browser, lambda e: e.text == "Approve and publish")
    button.send_keys(Keys.ENTER)
    arrived(browser, "decided=approved")
    assert state(home, "other-requests", 1) == "published"


def test_reject_goes_through_a_confirmation_page(server: LiveServer, browser: Any, home: OfficerHome) -> None:
    if browser.get_cookie("opendata_session") is None:
        browser.get(server.url + "/sign-in")
        find(browser, "#key").send_keys(home.keys["officer"])
        find(browser, "form.sign-in button").click()
        arrived(browser, "/approvals")
    browser.get(server.url + "/datasets/third-requests/releases/1/privacy")
    find(browser, "#reason").send_keys("latitude still too precise")
    find(browser, "button.reject").click()
    arrived(browser, "/reject")
    assert find(browser, "h1").text == "Reject release 1 of third-requests for good?"
    assert state(home, "third-requests", 1) == "awaiting-approval"  # nothing changed yet
    find(browser, ".confirm a.button").click()  # "No": back to the report, still waiting
    arrived(browser, "/datasets/third-requests/releases/1/privacy")
    assert state(home, "third-requests", 1) == "awaiting-approval"
    find(browser, "#reason").send_keys("latitude still too precise")
    find(browser, "button.reject").click()
    arrived(browser, "/reject")
    find(browser, ".confirm button.reject").click()
    arrived(browser, "decided=rejected")
    assert state(home, "third-requests", 1) == "rejected"


def test_the_report_fits_a_phone(server: LiveServer, browser: Any) -> None:
    browser.set_window_size(390, 844)
    try:
        release = "/datasets/service-requests/releases/2"
        for path in (f"{release}/privacy", f"{release}/validation", "/approvals", "/sign-in"):
            browser.get(server.url + path)
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (path, overflow)
        browser.get(server.url + "/datasets/service-requests/releases/2/privacy")
        width = browser.execute_script("return document.documentElement.clientWidth")
        cells = browser.find_elements("css selector", "table.columns td[data-label='Action']")
        assert cells
        for cell in cells:
            rect = cell.rect  # the decisive column is on screen, not scrolled away
            assert rect["x"] >= 0 and rect["x"] + rect["width"] <= width, rect
    finally:
        browser.set_window_size(1280, 900)


def test_every_dataset_page_links_its_reports(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    catalog_home = build_catalog_home(tmp_path_factory.mktemp("report-links"))
    with LiveServer(catalog_home.settings) as live:
        names = [d.name for d in catalog_home.catalog.datasets()]
        assert len(names) >= 2
        for name in names:
            browser.get(f"{live.url}/datasets/{name}")
            links = {a.text: a.get_attribute("href") for a in browser.find_elements("css selector", "#about a.button")}
            assert links.get("Privacy report") and links.get("Validation report"), (name, links)
            for word in ("Privacy report", "Validation report"):
                browser.get(links[word])
                assert find(browser, "h1").text.startswith(word), (name, word)
                assert find(browser, "main#main") and find(browser, "a.skip") and find(browser, "header.site")
