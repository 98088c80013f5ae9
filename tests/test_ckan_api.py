"""The CKAN Action API, driven by ckanapi.RemoteCKAN against a real uvicorn server, and `ckanapi dump`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ckanapi
import httpx
import pytest

from api.ckan.actions import ActionContext, register_action
from catalog.api_keys import ApiKeyStore
from tests.api_fixtures import DATASET, ApiHome, build_home, requests_table
from tests.ckan_fixtures import running_server


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> ApiHome:
    built = build_home(tmp_path_factory.mktemp("ckan"))
    built.publish(requests_table(40, first_id=1001))  # release 2
    built.add_dataset("bus-stops", "transit-agency")
    built.publish(requests_table(5), dataset="bus-stops")
    return built


@pytest.fixture(scope="module")
def server(home: ApiHome) -> Iterator[str]:
    with running_server(home.settings) as url:
        yield url


@pytest.fixture
def ckan(server: str) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(server, user_agent="opendata-tests")


def test_package_list_and_show(ckan: ckanapi.RemoteCKAN) -> None:
    assert ckan.action.package_list() == ["bus-stops", DATASET]  # air-quality awaits approval
    package = ckan.action.package_show(id=DATASET)
    assert package["name"] == DATASET and package["organization"]["name"] == "city-of-example"
    assert [r["id"] for r in package["resources"]] == [f"{DATASET}@2", f"{DATASET}@1"]
    assert package["resources"][0]["datastore_active"] is True
    assert {t["name"] for t in package["tags"]} == {"test", "city"}
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="air-quality")


def test_package_search(ckan: ckanapi.RemoteCKAN) -> None:
    everything = ckan.action.package_search()
    assert everything["count"] == 2
    found = ckan.action.package_search(q="city", rows=10)
    assert [p["name"] for p in found["results"]] == [DATASET]
    by_org = ckan.action.package_search(fq="organization:transit-agency")
    assert [p["name"] for p in by_org["results"]] == ["bus-stops"]
    paged = ckan.action.package_search(rows=1, start=1, sort="name asc")
    assert paged["count"] == 2 and [p["name"] for p in paged["results"]] == [DATASET]
    with pytest.raises(ckanapi.SearchQueryError):
        ckan.action.package_search(fq="colour:red")


def test_organizations_and_resources(ckan: ckanapi.RemoteCKAN) -> None:
    assert ckan.action.organization_list() == ["city-of-example", "environment-agency", "transit-agency"]
    detailed = ckan.action.organization_list(all_fields=True)
    assert {o["name"]: o["package_count"] for o in detailed}["city-of-example"] == 1
    organization = ckan.action.organization_show(id="transit-agency")
    assert [p["name"] for p in organization["packages"]] == ["bus-stops"]
    resource = ckan.action.resource_show(id=f"{DATASET}@1")
    assert resource["package_id"] == DATASET and resource["url"].endswith("/releases/1/data.parquet")
    with pytest.raises(ckanapi.NotFound):
        ckan.action.resource_show(id=f"{DATASET}@9")
    with pytest.raises(ckanapi.NotFound):
        ckan.action.organization_show(id="nobody")


def test_datastore_search(ckan: ckanapi.RemoteCKAN) -> None:
    result = ckan.action.datastore_search(
        resource_id=f"{DATASET}@1", filters={"category": ["noise", "pothole"], "closed": True},
        fields=["_id", "request_id", "category"], sort="request_id desc", limit=3, offset=1,
    )
    matching = [i for i in range(250, 0, -1) if i % 4 in (0, 3) and i % 3 == 0]
    assert result["total"] == len(matching)
    assert [r["request_id"] for r in result["records"]] == matching[1:4]
    assert [f["id"] for f in result["fields"]] == ["_id", "request_id", "category"]
    assert result["records"][0]["_id"] == result["records"][0]["request_id"]
    latest = ckan.action.datastore_search(resource_id=DATASET, q="ward 3", limit=100)
    assert latest["total"] == 8 and all(r["ward name"] == "Ward 3" for r in latest["records"])
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.datastore_search(resource_id=DATASET, filters={"colour": "red"})
    with pytest.raises(ckanapi.NotFound):
        ckan.action.datastore_search(resource_id="air-quality@1")


def test_datastore_search_sql_and_status(ckan: ckanapi.RemoteCKAN) -> None:
    result = ckan.action.datastore_search_sql(sql=f'SELECT count(*) AS n FROM "{DATASET}@1"')
    assert result["records"] == [{"n": 250}] and result["fields"] == [{"id": "n", "type": "int"}]
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.datastore_search_sql(sql="SELECT * FROM read_csv('/etc/passwd')")
    status = ckan.action.status_show()
    assert status["ckan_version"].startswith("2.") and "datastore" in status["extensions"]


def test_envelope_and_error_types_over_plain_http(server: str) -> None:
    ok = httpx.get(f"{server}/api/3/action/package_show", params={"id": DATASET}).json()
    assert list(ok) == ["help", "success", "result"] and ok["success"] is True
    missing = httpx.get(f"{server}/api/3/action/package_show", params={"id": "nope"})
    assert missing.status_code == 404
    assert missing.json()["error"]["__type"] == "Not Found Error" and missing.json()["success"] is False
    invalid = httpx.post(f"{server}/api/action/package_search", json={"rows": "many"})
    assert invalid.status_code == 409 and invalid.json()["error"]["__type"] == "Validation Error"
    unknown = httpx.get(f"{server}/api/3/action/no_such_action")
    assert unknown.status_code == 400 and "no_such_action" in unknown.json()["error"]["message"]
    not_json = httpx.post(
        f"{server}/api/action/package_list", content=b"[1,2", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    search_error = httpx.get(f"{server}/api/3/action/package_search", params={"fq": "colour:red"})
    assert search_error.status_code == 400 and search_error.json()["error"]["__type"] == "Search Query Error"


def test_write_actions_need_an_admin_key(home: ApiHome, server: str) -> None:
    def echo_create(ctx: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
        return {"created": data.get("name"), "by": ctx.api_key.name if ctx.api_key else None}

    register_action("test_echo_create", echo_create, write=True)
    store = ApiKeyStore(home.settings.paths.catalog_db)
    developer, admin = store.create("dev", "developer").key, store.create("root", "admin").key
    with pytest.raises(ckanapi.NotAuthorized):
        ckanapi.RemoteCKAN(server).call_action("test_echo_create", {"name": "x"})
    with pytest.raises(ckanapi.NotAuthorized):
        ckanapi.RemoteCKAN(server, apikey=developer).call_action("test_echo_create", {"name": "x"})
    denied = httpx.post(f"{server}/api/action/test_echo_create", json={"name": "x"})
    assert denied.status_code == 403 and denied.json()["error"]["__type"] == "Authorization Error"
    assert ckanapi.RemoteCKAN(server, apikey=admin).call_action("test_echo_create", {"name": "x"}) == {
        "created": "x", "by": "root"
    }


def test_ckanapi_dump_datasets_all_completes(server: str, tmp_path: Path) -> None:
    out = tmp_path / "datasets.jsonl"
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [str(bin_dir / "ckanapi"), "dump", "datasets", "--all", "-r", server, "-O", str(out), "-q"],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert done.returncode == 0, done.stderr
    dumped = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(d["name"] for d in dumped) == ["bus-stops", DATASET]
    assert all(d["resources"] for d in dumped)
