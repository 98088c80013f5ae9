"""``/`` answers a browser with HTML and a client with JSON; the dataset page links its report pages (a
test that fails when a FastAPI upgrade, or anything else, loses them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.routes.meta import prefers_html
from tests.web_fixtures import build_catalog_home

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return build_catalog_home(tmp_path).client()


def test_a_browser_gets_the_catalog_page_and_a_client_gets_json(client: TestClient) -> None:
    page = client.get("/", headers={"Accept": BROWSER})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.url.path == "/catalog" and "311 service requests" in page.text
    first = client.get("/", headers={"Accept": BROWSER}, follow_redirects=False)
    assert first.status_code == 303 and "Accept" in first.headers["vary"]
    for accept in (None, "*/*", "application/json", "application/json, text/html;q=0.5"):
        answer = client.get("/", headers={"Accept": accept} if accept else {})
        assert answer.headers["content-type"].startswith("application/json"), accept
        assert "datasets" in answer.json()["links"]


@pytest.mark.parametrize("accept, html", [(BROWSER, True), ("text/html", True), ("*/*", False), ("", False),
                                          ("text/html;q=0.1, application/json", False), ("text/html;q=x", False)])
def test_accept_ranking(accept: str, html: bool) -> None:
    assert prefers_html(accept) is html


@pytest.mark.parametrize("path", ["/datasets/city-311-requests", "/datasets/city-311-requests/releases/1"])
def test_the_dataset_page_links_both_report_pages(client: TestClient, path: str) -> None:
    page = client.get(path).text
    number = 1 if path.endswith("/1") else 2
    for word in ("privacy", "validation"):
        link = f"http://testserver/datasets/city-311-requests/releases/{number}/{word}"
        assert f'href="{link}"' in page, word
        report = client.get(link)
        assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
