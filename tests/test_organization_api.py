"""An organisation's profile (description, contact, website from its datasets' job files) where clients read
it: ``GET /api/v1/organizations/{name}`` and CKAN's ``organization_show``/``organization_list``. The real
app over a real catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.models import OrganizationProfile
from tests.web_fixtures import AIR_SCHEMA, CatalogHome, air_rows, build_catalog_home, privacy_report

BASE = "http://testserver"
PROFILE = OrganizationProfile(description="Monitors the air and the rivers of the region.",
                              contact="data@environment.example.gov", website="https://environment.example.gov/")


@pytest.fixture
def home(tmp_path: Path) -> CatalogHome:
    home = build_catalog_home(tmp_path)
    home.add_dataset("stations", "environment-agency", "Environment Agency", title="Monitoring stations",
                     organization_profile=PROFILE, updated_at="2024-03-05T00:00:00Z")
    home.publish("stations", air_rows(3), AIR_SCHEMA, privacy_report("stations", 3, {}, []))
    return home


def test_an_organisation_answers_its_profile_and_an_unknown_one_is_a_404(home: CatalogHome) -> None:
    client = home.client()
    answer = client.get("/api/v1/organizations/environment-agency")
    assert answer.status_code == 200
    assert answer.json() == {
        "name": "environment-agency", "title": "Environment Agency", "description": PROFILE.description,
        "contact": PROFILE.contact, "website": PROFILE.website, "datasets": 2,  # air-quality and stations
        "url": f"{BASE}/organizations/environment-agency",
        "datasets_url": f"{BASE}/api/v1/datasets?organization=environment-agency",
    }
    plain = client.get("/api/v1/organizations/city-of-example").json()  # no job file gives a profile
    assert (plain["description"], plain["contact"], plain["website"], plain["datasets"]) == ("", None, None, 1)
    missing = client.get("/api/v1/organizations/nobody")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/json")
    assert missing.json()["error"]["status"] == 404 and "nobody" in missing.json()["error"]["message"]
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/organizations/{name}"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/OrganizationProfilePublic") and "404" in operation["responses"]


def test_ckan_organizations_carry_the_profile(home: CatalogHome) -> None:
    client = home.client()
    shown = client.get("/api/3/action/organization_show", params={"id": "environment-agency"}).json()["result"]
    assert shown["description"] == PROFILE.description and shown["package_count"] == 2
    assert {e["key"]: e["value"] for e in shown["extras"]} == {"website": PROFILE.website, "contact": PROFILE.contact}
    listed = client.get("/api/3/action/organization_list", params={"all_fields": "true"}).json()["result"]
    by_name = {o["name"]: o for o in listed}
    assert by_name["environment-agency"]["description"] == PROFILE.description
    assert by_name["city-of-example"]["description"] == "" and "extras" not in by_name["city-of-example"]
