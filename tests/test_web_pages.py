"""The HTML pages, rendered by the real app over a real catalog and real release files."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.web_fixtures import CatalogHome, build_catalog_home


class Page(HTMLParser):
    """The parts of a page the tests look at: links, labels, inputs, JSON-LD, ids, headings, text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.labels: set[str] = set()
        self.inputs: list[dict[str, str | None]] = []
        self.ids: set[str] = set()
        self.json_ld: list[str] = []
        self.svg_labels: list[str | None] = []
        self.lang: str | None = None
        self._in_json_ld = False
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "html":
            self.lang = found.get("lang")
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if tag == "label" and found.get("for"):
            self.labels.add(str(found["for"]))
        if tag in ("input", "select", "textarea"):
            self.inputs.append(found)
        if tag == "svg":
            self.svg_labels.append(found.get("aria-label") if found.get("role") == "img" else None)
        self._in_json_ld = tag == "script" and found.get("type") == "application/ld+json"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_json_ld = False

    def handle_data(self, data: str) -> None:
        if self._in_json_ld:
            self.json_ld.append(data)
        elif data.strip():
            self.text.append(" ".join(data.split()))

    @property
    def all_text(self) -> str:
        return " ".join(self.text)


@pytest.fixture
def home(tmp_path: Path) -> CatalogHome:
    return build_catalog_home(tmp_path)


@pytest.fixture
def client(home: CatalogHome) -> TestClient:
    return home.client()


def page(client: TestClient, url: str, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, (url, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    parsed = Page(response.text)
    assert parsed.lang == "en"
    for control in parsed.inputs:  # every visible form control has a label
        if control.get("type") != "hidden":
            assert control.get("id") in parsed.labels, control
    for href in parsed.links:  # in-page links point at something on the page
        if href.startswith("#"):
            assert href[1:] in parsed.ids, href
    return parsed


def test_home_searches_and_offers_facets(client: TestClient) -> None:
    home = page(client, "/catalog")
    assert "2 datasets" in home.all_text
    assert "/datasets/city-311-requests" in " ".join(home.links)
    assert any(link.endswith("/catalog?tag=air") for link in home.links)
    found = page(client, "/catalog?q=borough")
    assert "1 dataset matching “borough”" in found.all_text
    assert "Matching columns: borough" in found.all_text
    assert "/datasets/air-quality" not in " ".join(found.links)
    filtered = page(client, "/catalog?license=CC0-1.0")
    assert "1 dataset" in filtered.all_text and "Licence: CC0-1.0" in filtered.all_text
    assert "/catalog" in filtered.links  # the link that removes the filter
    assert "No dataset matches" in page(client, "/catalog?q=zeppelin").all_text


def test_organisation_pages(client: TestClient) -> None:
    listing = page(client, "/organizations")
    assert "Environment Agency" in listing.all_text
    org = page(client, "/organizations/environment-agency")
    assert "Air quality measurements" in org.all_text
    assert "Bus stops" not in org.all_text  # awaiting approval
    assert "There is no organisation 'nope'." in page(client, "/organizations/nope", status=404).all_text


def test_the_dataset_page_shows_what_a_developer_needs(client: TestClient) -> None:
    dataset = page(client, "/datasets/city-311-requests")
    text = dataset.all_text
    assert "311 service requests" in text and "Release 2 (latest)" in text
    assert "Requests for non-emergency city services." in text
    for heading in ("About", "Downloads", "Use the API", "Schema", "Column profile", "Sample rows", "Release history"):
        assert heading in text
    assert "Whole hours until the first response." in text  # schema table, release 2's descriptions
    assert "BROOKLYN" in text  # sample rows and top values
    assert all(dataset.svg_labels) and any("Histogram of response_hours" in str(s) for s in dataset.svg_labels)
    assert "Rows: 40 → 55 (+37.5%)." in text and "Column borough added (string)." in text
    assert "New privacy finding uncovered-quasi-identifier on borough." in text
    for snippet in ("curl -s", "import requests", "await fetch(url)"):
        assert snippet in text


def test_the_api_examples_and_downloads_work(client: TestClient) -> None:
    response = client.get("/datasets/city-311-requests")
    parsed = Page(response.text)
    example = re.search(r'id="try-example" href="([^"]+)"', response.text)
    assert example is not None
    url = example.group(1).replace("&amp;", "&")
    rows = client.get(url)
    assert rows.status_code == 200, rows.text
    body = rows.json()
    [value] = parse_qs(urlsplit(url).query)["category"]  # the most frequent category, as an example filter
    assert len(body["rows"]) == 5 and all(r["category"] == value for r in body["rows"])
    downloads = [link for link in parsed.links if "/api/v1/datasets/city-311-requests/" in link]
    assert any(link.endswith("/releases/2/data.parquet") for link in downloads)
    assert any("/export.csv?release=2" in link for link in downloads)  # the whole release, not a page
    for link in downloads:
        assert client.get(link).status_code == 200, link


def test_schema_org_json_ld_describes_the_dataset(client: TestClient) -> None:
    parsed = page(client, "/datasets/air-quality")
    [document] = [json.loads(block) for block in parsed.json_ld]
    assert document["@type"] == "Dataset" and document["name"] == "Air quality measurements"
    assert document["version"] == "1" and document["license"].endswith("/licence/CC0")
    assert document["temporalCoverage"] == "2024-05-01T00:00:00Z/2024-05-03T23:00:00Z"
    assert {d["encodingFormat"] for d in document["distribution"]} >= {"application/vnd.apache.parquet", "text/csv"}
    assert [v["name"] for v in document["variableMeasured"]] == ["station", "measured_at", "pm25"]
    assert document["publisher"]["name"] == "Environment Agency"


def test_an_older_release_page_says_so_and_pins_its_examples(client: TestClient) -> None:
    older = page(client, "/datasets/city-311-requests/releases/1")
    assert "You are looking at release 1." in older.all_text
    assert "release=1" in client.get("/datasets/city-311-requests/releases/1").text
    assert "Number until the first response" not in older.all_text
    assert "Hours until the first response." in older.all_text
    missing = page(client, "/datasets/city-311-requests/releases/7", status=404)
    assert "has no release 7" in missing.all_text
    assert "does not exist" in page(client, "/datasets/bus-stops", status=404).all_text


def test_the_runs_page_shows_states_durations_and_failures(client: TestClient) -> None:
    runs = page(client, "/runs")
    text = runs.all_text
    assert "air-quality" in text and "city-311-requests" in text
    assert "source unavailable: the station feed answered 503 three times" in text
    assert "failed" in text and "succeeded" in text
    assert "1 min 30 s" in text and "12 s" in text
    # scheduled daily/hourly, last released in March 2024: overdue now
    assert "Missed releases" in text and "air-quality : due" in text
    one = page(client, "/runs?dataset=city-311-requests")
    assert "air-quality" not in " ".join(t for t in one.text if "feed" in t)
    assert "run-city-311-requests-2" in one.all_text


def test_static_files_and_pages_stay_out_of_the_openapi(client: TestClient) -> None:
    assert client.get("/static/site.css").headers["content-type"].startswith("text/css")
    paths = client.get("/openapi.json").json()["paths"]
    assert "/catalog" not in paths and "/datasets/{name}" not in paths
    assert {"/catalog.ttl", "/catalog.jsonld", "/api/v1/datasets/{name}/history"} <= set(paths)


def test_the_site_has_an_icon(client: TestClient) -> None:
    """/favicon.ico is a real ICO (browsers ask for it unprompted), and every page links the SVG icon."""
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # the ICO header: reserved 0, type 1 (icon)
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg")
    for path in ("/catalog", "/organizations", "/runs", "/datasets/city-311-requests"):
        assert 'favicon.svg" type="image/svg+xml">' in client.get(path).text, path
