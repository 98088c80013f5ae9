"""Pages and static files have their own limit: browsing keeps working after the API limit is used up, the
API still limits, and the pages' own limit answers 429 past it (real app, real catalog)."""

from __future__ import annotations

from pathlib import Path

from api.page_limits import is_page
from tests.web_fixtures import build_catalog_home

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
PAGES = ["/catalog", "/catalog?q=air", "/organizations", "/organizations/city-of-example",
         "/datasets/city-311-requests", "/runs", "/static/site.css", "/static/vendor/leaflet/leaflet.js"]


def test_pages_keep_working_after_the_api_limit_is_used_up(tmp_path: Path) -> None:
    home = build_catalog_home(tmp_path, rate_limit_anonymous=3, rate_limit_pages=40, rate_limit_window_seconds=60)
    client = home.client()
    api = [client.get("/api/v1/datasets").status_code for _ in range(4)]
    assert api == [200, 200, 200, 429]  # the API limit is used up ...
    for path in PAGES:  # ... and every page and static file still answers, on its own count
        answer = client.get(path, headers=BROWSER)
        assert answer.status_code == 200, path
        assert answer.headers["ratelimit-policy"] == "40;w=60"
    assert client.get("/", headers=BROWSER).status_code == 200  # a browser's / lands on the catalog page
    # the API still limits: pages did not reset or raise its count, and the rows API a page's map calls counts
    assert client.get("/api/v1/datasets/city-311-requests/rows").status_code == 429
    assert client.get("/catalog.ttl").status_code == 429  # machine-readable files count as the API
    refused = client.get("/api/v1/datasets").json()["error"]
    assert refused["type"] == "rate-limited" and "API key" in refused["message"]


def test_the_pages_have_a_limit_of_their_own(tmp_path: Path) -> None:
    home = build_catalog_home(tmp_path, rate_limit_anonymous=100, rate_limit_pages=5, rate_limit_window_seconds=60)
    client = home.client()
    answers = [client.get("/static/site.css") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[0].headers["ratelimit-limit"] == "5"
    message = answers[5].json()["error"]["message"]
    assert "pages and static files" in message and "counted apart" in message
    assert int(answers[5].headers["retry-after"]) >= 1
    assert client.get("/api/v1/datasets").status_code == 200  # the API's own count is untouched


def test_what_counts_as_a_page() -> None:
    def scope(path: str, method: str = "GET", accept: bytes = b"*/*") -> dict[str, object]:
        return {"type": "http", "path": path, "method": method, "headers": [(b"accept", accept)]}

    for path in ("/catalog", "/datasets/x", "/datasets/x/releases/2/privacy", "/organizations", "/runs",
                 "/static/map.js", "/privacy-static/report.css", "/procurement/contracts"):
        assert is_page(scope(path)), path
    for path in ("/api/v1/datasets", "/api/3/action/package_search", "/catalog.ttl", "/catalog.jsonld",
                 "/openapi.json"):
        assert not is_page(scope(path)), path
    assert not is_page(scope("/catalog", method="POST"))
    assert is_page(scope("/", accept=b"text/html,*/*")) and not is_page(scope("/"))
