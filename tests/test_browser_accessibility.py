"""axe-core (WCAG 2.0/2.1 A and AA) on every page type, in Debian Chromium at 1280 px and 390 px.

The pages are served by the real app under uvicorn from a real catalog (tests/web_fixtures.py). Skipped only
when Chromium or axe-core is missing and CI is not set; .ci/run installs both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from catalog.api_keys import ApiKeyStore
from tests import axe
from tests.web_fixtures import (
    NEEDS_CHROMIUM,
    CatalogHome,
    LiveServer,
    browser_session,
    build_catalog_home,
)

pytestmark = [
    NEEDS_CHROMIUM,
    axe.NEEDS_AXE,
]

# One of each page type the fixture catalog has; every entry must answer 200 (checked before axe runs). The
# dataset page with a map and the row explorer in use is checked on the NYC 311 demo in test_browser_explore.
PAGES = [
    "/catalog",
    "/catalog?q=air",
    "/catalog?q=air&sort=updated",  # search sorted
    "/catalog?q=qualty",  # a typo answered for the word it meant
    "/organizations",
    "/organizations/city-of-example",
    "/datasets/city-311-requests",
    "/datasets/city-311-requests/releases/1",
    "/datasets/city-311-requests/releases/2/privacy",
    "/datasets/city-311-requests/releases/2/validation",
    "/runs",
    "/sign-in",
]
# Pages of the officer's workflow, behind sign-in (the driver signs in first, through the form).
REVIEW = "/datasets/bus-stops/releases/1/privacy"
OFFICER_PAGES = ["/approvals", REVIEW]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> CatalogHome:
    return build_catalog_home(tmp_path_factory.mktemp("axe"))


@pytest.fixture(scope="module")
def server(home: CatalogHome) -> Iterator[LiveServer]:
    with LiveServer(home.settings) as live:
        yield live


@pytest.fixture(scope="module")
def officer_key(home: CatalogHome) -> str:
    return ApiKeyStore(home.settings.paths.catalog_db).create("axe officer", "officer").key


def sign_in(browser: Any, server: LiveServer, key: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server.url + "/sign-in?next=/approvals")
    browser.find_element(By.ID, "key").send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "form.sign-in button").click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/approvals"))


@pytest.fixture(scope="module", params=axe.WIDTHS, ids=lambda w: f"{w}px")
def browser(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with browser_session(tmp_path_factory.mktemp("axe-profile"), width=request.param) as driver:
        yield driver


def test_axe_core_reports_no_wcag_aa_violation_on_any_page(server: LiveServer, browser: Any) -> None:
    axe.pages_clean(browser, server.url, PAGES)


def test_axe_core_reports_no_violation_on_the_officers_pages(
    server: LiveServer, browser: Any, officer_key: str
) -> None:
    """The review page locked (signed out), then signed in: the inbox, the review page with its decision form,
    and the reject confirmation (reached by the form, as an officer would)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    failures = {}
    browser.delete_all_cookies()
    browser.get(server.url + REVIEW)
    if found := axe.violations(browser):
        failures["locked " + REVIEW] = axe.describe(found)
    sign_in(browser, server, officer_key)
    for path in OFFICER_PAGES:
        browser.get(server.url + path)
        assert "Sign in" != browser.find_element(By.TAG_NAME, "h1").text, path
        if found := axe.violations(browser):
            failures[path] = axe.describe(found)
    browser.get(server.url + REVIEW)
    browser.find_element(By.ID, "reason").send_keys("checking the confirmation page")
    browser.find_element(By.CSS_SELECTOR, "button.reject").click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/reject"))
    assert "for good?" in browser.find_element(By.TAG_NAME, "h1").text
    if found := axe.violations(browser):
        failures["reject confirmation"] = axe.describe(found)
    browser.delete_all_cookies()
    width = browser.get_window_size()["width"]
    assert not failures, f"at {width} px:\n" + "\n".join(f"{p}:\n{d}" for p, d in failures.items())


def test_axe_finds_a_violation_when_there_is_one(server: LiveServer, browser: Any) -> None:
    """The harness itself: an image without alt text and an unlabeled input must be reported."""
    browser.get(server.url + "/catalog")
    browser.execute_script(
        "document.querySelector('main').insertAdjacentHTML('beforeend',"
        " '<img src=\"/x.png\"><input type=\"text\">');"
    )
    ids = {v["id"] for v in axe.violations(browser)}
    assert {"image-alt", "label"} <= ids
