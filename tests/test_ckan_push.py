"""``opendata ckan push`` over real HTTP, with ckanapi, to a second instance of our own CKAN-compatible API.

The remote is the real app under uvicorn with its own empty home and an admin API key; what the push
created is read back with ckanapi's package_show and organization_show, as from any CKAN.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ckanapi import RemoteCKAN
from ckanapi.errors import NotAuthorized, ValidationError

from catalog.api_keys import ApiKeyStore
from opendata.cli import main
from opendata.settings import Settings
from tests.web_fixtures import CatalogHome, LiveServer, air_rows, build_catalog_home, privacy_report

PUBLIC = "https://data.example.gov"


@dataclass
class Remote:
    url: str
    admin_key: str
    developer_key: str

    def ckan(self, key: str | None = None) -> RemoteCKAN:
        return RemoteCKAN(self.url, apikey=key or self.admin_key)


@pytest.fixture
def source(tmp_path: Path) -> CatalogHome:
    return build_catalog_home(tmp_path / "source")


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Remote]:
    settings = Settings(home=tmp_path / "remote", rate_limit_anonymous=100_000, rate_limit_key=100_000)
    settings.paths.ensure()
    keys = ApiKeyStore(settings.paths.catalog_db)
    admin, developer = keys.create("ckan push test", "admin"), keys.create("reader", "developer")
    with LiveServer(settings) as server:
        yield Remote(server.url, admin.key, developer.key)


def push(source: CatalogHome, remote: Remote, *extra: str, key: str | None = None) -> int:
    return main([
        "--home", str(source.settings.home), "ckan", "push", "--url", remote.url, "--api-key", key or remote.admin_key,
        "--public-url", PUBLIC, *extra,
    ])


def test_push_creates_organisations_packages_and_resources(
    source: CatalogHome, remote: Remote, capsys: pytest.CaptureFixture[str]
) -> None:
    assert push(source, remote, "--json") == 0
    steps = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    created = {(s["kind"], s["name"]) for s in steps if s["outcome"] == "created"}
    assert {("organization", "city-of-example"), ("organization", "environment-agency"),
            ("package", "city-311-requests"), ("package", "air-quality")} <= created
    assert not any(s["name"] == "bus-stops" for s in steps)  # awaiting approval: not public, not pushed

    ckan = remote.ckan()
    package = ckan.action.package_show(id="city-311-requests")
    assert package["title"] == "311 service requests" and package["owner_org"] == "city-of-example"
    assert [t["name"] for t in package["tags"]] == ["311", "service-requests", "city"]
    assert package["license_id"] == "CC-BY-4.0" and package["url"] == f"{PUBLIC}/datasets/city-311-requests"
    urls = [r["url"] for r in package["resources"]]
    assert len(urls) == 6  # two releases x (Parquet, CSV, datapackage.json)
    assert f"{PUBLIC}/api/v1/datasets/city-311-requests/releases/2/data.parquet" in urls
    parquet = next(r for r in package["resources"] if r["url"].endswith("/releases/1/data.parquet"))
    assert parquet["hash"] == source.catalog.release("city-311-requests", 1).files["data.parquet"]
    assert parquet["format"] == "Parquet" and "privacy-report" in parquet["description"]
    organization = ckan.action.organization_show(id="environment-agency", include_datasets=False)
    assert organization["title"] == "Environment Agency"


def test_a_second_push_updates_and_adds_only_new_release_resources(
    source: CatalogHome, remote: Remote, capsys: pytest.CaptureFixture[str]
) -> None:
    assert push(source, remote) == 0
    capsys.readouterr()
    source.add_dataset("air-quality", "environment-agency", "Environment Agency", title="Air quality (hourly)",
                       tags=["air"], license="CC0-1.0")
    source.publish("air-quality", air_rows(24), {"fields": [{"name": "station", "type": "string"}]},
                   privacy_report("air-quality", 24, {}, []), day=5)
    assert push(source, remote, "--json") == 0
    steps = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_outcome = {(s["kind"], s["name"]): s["outcome"] for s in steps}
    assert by_outcome[("organization", "environment-agency")] == "unchanged"
    assert by_outcome[("package", "air-quality")] == "updated"
    assert by_outcome[("resource", "Release 1 (Parquet)")] in ("unchanged",)
    new = [s["name"] for s in steps if s["kind"] == "resource" and s["outcome"] == "created"]
    assert new == ["Release 2 (Parquet)", "Release 2 (CSV)", "Release 2 (datapackage.json)"]
    package = remote.ckan().action.package_show(id="air-quality")
    assert package["title"] == "Air quality (hourly)" and len(package["resources"]) == 6
    assert [r["position"] for r in package["resources"]] == list(range(6))


def test_write_actions_need_an_admin_key_and_keep_ckan_shapes(source: CatalogHome, remote: Remote) -> None:
    with pytest.raises(NotAuthorized):
        remote.ckan(remote.developer_key).action.organization_create(name="someone", title="Someone")
    assert push(source, remote, key=remote.developer_key) == 2  # PushFailed: bad input, not transient
    ckan = remote.ckan()
    ckan.action.organization_create(name="parks", title="Parks Department")
    with pytest.raises(ValidationError):
        ckan.action.organization_create(name="parks", title="Again")
    with pytest.raises(ValidationError):
        ckan.action.package_create(name="trees", title="Trees", owner_org="nobody")
    created = ckan.action.package_create(name="trees", title="Trees", owner_org="parks", tags=[{"name": "green"}])
    assert created["name"] == "trees" and created["resources"] == []
    resource = ckan.action.resource_create(package_id="trees", url="https://example.org/trees.csv", format="CSV")
    assert resource["package_id"] == "trees" and resource["name"] == "trees.csv" and resource["id"]
    with pytest.raises(ValidationError):
        ckan.action.package_create(name="trees", title="Trees again", owner_org="parks")
    updated = ckan.action.package_update(id="trees", title="Street trees", owner_org="parks")
    assert updated["title"] == "Street trees" and len(updated["resources"]) == 1


def test_an_unreachable_ckan_is_a_transient_error(source: CatalogHome, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.web_fixtures import free_port

    gone = Remote(f"http://127.0.0.1:{free_port()}", "od_x", "od_y")
    assert push(source, gone) == 3
    assert "did not answer organization_show" in capsys.readouterr().err

