"""What we publish, checked by the standards' own validators: openapi-spec-validator on the generic and every
dataset's OpenAPI document, frictionless on every ``datapackage.json``."""

from __future__ import annotations

import json
from pathlib import Path

import frictionless
import pytest
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from catalog.datapackage import datapackage
from opendata.settings import Settings
from publishers.job import discover_jobs, load_job
from publishers.runner import run_job
from tests.conftest import JobWriter
from tests.web_fixtures import AIR_SCHEMA, CatalogHome, air_rows, build_catalog_home, privacy_report

DATASETS = Path(__file__).resolve().parent.parent / "datasets"


@pytest.fixture
def home(tmp_path: Path) -> CatalogHome:
    return build_catalog_home(tmp_path)


def openapi_errors(document: dict) -> list[str]:
    return [f"{list(e.path)}: {e.message}" for e in OpenAPIV31SpecValidator(document).iter_errors()]


def test_the_generic_and_every_datasets_openapi_document_are_valid(home: CatalogHome) -> None:
    client = home.client()
    generic = client.get("/openapi.json").json()
    assert openapi_errors(generic) == []
    published = [d["name"] for d in client.get("/api/v1/datasets").json()["datasets"]]
    assert set(published) == {"city-311-requests", "air-quality"}
    for name in published:
        document = client.get(f"/api/v1/datasets/{name}/openapi.json").json()
        assert openapi_errors(document) == [], name
        assert f"/api/v1/datasets/{name}/rows" in document["paths"]
        assert f"{name}.row" in document["components"]["schemas"]
        page = client.get(f"/api/v1/datasets/{name}/docs")
        assert page.status_code == 200 and f"/api/v1/datasets/{name}/openapi.json" in page.text
    assert client.get("/api/v1/datasets/bus-stops/openapi.json").status_code == 404  # awaiting approval


def test_the_generic_openapi_document_does_not_grow_with_the_catalog(home: CatalogHome) -> None:
    before = home.client().get("/openapi.json").content
    for number in range(12):
        name = f"stations-{number}"
        home.add_dataset(name, "environment-agency", "Environment Agency", title=f"Stations {number}")
        home.publish(name, air_rows(3), AIR_SCHEMA, privacy_report(name, 3, {}, []))
    after = home.client().get("/openapi.json").content
    assert after == before and len(after) < 1_000_000


def test_docs_are_served_from_our_own_files(home: CatalogHome) -> None:
    client = home.client()
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200 and "cdn." not in page.text and "fonts.googleapis" not in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        assert client.get(f"/docs-static/{asset}").status_code == 200, asset


def test_a_published_datapackage_passes_frictionless_validate(settings: Settings, write_job: JobWriter) -> None:
    result = run_job(write_job(homepage="https://example.gov/311"), settings)
    assert result.release is not None
    descriptor = settings.paths.releases / result.release.folder / "datapackage.json"
    report = frictionless.validate(descriptor)
    assert report.valid, report.flatten(["type", "message"])
    assert report.tasks[0].stats["rows"] == 4
    assert json.loads(descriptor.read_text())["homepage"] == "https://example.gov/311"


# An OCDS family job publishes one dataset per table: test_procurement_publish checks each table's descriptor.
TABLE_JOBS = [p for p in discover_jobs(DATASETS) if load_job(p).source.type != "ocds"]


@pytest.mark.parametrize("path", TABLE_JOBS, ids=lambda p: str(p.relative_to(DATASETS)))
def test_every_demo_jobs_datapackage_descriptor_is_valid(path: Path) -> None:
    job = load_job(path)
    descriptor = datapackage(job, 3, 10, 2048, "ab" * 32, "2024-03-01T06:00:00Z")
    report = frictionless.Package.validate_descriptor(descriptor)
    assert report.valid, report.flatten(["type", "message"])
