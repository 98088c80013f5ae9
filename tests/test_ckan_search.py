"""CKAN field queries through package_search (Solr syntax as CKAN clients send it), driven by ckanapi over HTTP
against the real app, on the SQLite catalog and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ckanapi
import httpx
import pyarrow as pa
import pytest

from catalog.database import close_databases
from catalog.store import open_catalog
from opendata.settings import Settings
from tests import publishers_fixtures
from tests.api_fixtures import DATASET, ApiHome, requests_table
from tests.catalog_fixtures import new_database
from tests.ckan_fixtures import running_server

postgres_url = publishers_fixtures.postgres_url

NOISE_SCHEMA = {"fields": [{"name": "complaint_id", "type": "integer"},
                           {"name": "complaint_type", "type": "string", "title": "Kind of complaint"}]}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = new_database(request.getfixturevalue("postgres_url")) if request.param == "postgresql" else None
    config = Settings(home=tmp_path_factory.mktemp("ckan-search") / "home", rate_limit_anonymous=100_000,
                      catalog_url=url)
    config.paths.ensure()
    home = ApiHome(config, open_catalog(config))
    home.add_dataset()  # "City 311 Requests", tags test, city
    home.publish(requests_table(20))
    home.add_dataset("bus-stops", "transit-agency")
    home.publish(requests_table(5), dataset="bus-stops")
    home.add_dataset("noise-complaints")
    home.publish(pa.table({"complaint_id": pa.array([1, 2], pa.int64()), "complaint_type": ["Loud Music", "Party"]}),
                 dataset="noise-complaints", schema=NOISE_SCHEMA)
    with running_server(config) as base:
        yield base
    close_databases()


@pytest.fixture
def ckan(server: str) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(server, user_agent="opendata-tests")


def _names(ckan: ckanapi.RemoteCKAN, **params: object) -> list[str]:
    found = ckan.action.package_search(rows=100, sort="name asc", **params)
    assert found["count"] == len(found["results"])
    return [p["name"] for p in found["results"]]


def test_field_queries_in_q(ckan: ckanapi.RemoteCKAN) -> None:
    assert _names(ckan, q="title:noise") == ["noise-complaints"]
    assert _names(ckan, q='title:"Noise Complaints"') == ["noise-complaints"]
    assert _names(ckan, q="title:stop") == ["bus-stops"]  # stemmed, as Solr's text fields are
    assert _names(ckan, q="title:transit") == [], "title: looks in the title only (transit is the organisation)"
    assert _names(ckan, q="name:bus-stops") == ["bus-stops"]
    assert _names(ckan, q='name:"noise-complaints"') == ["noise-complaints"]
    assert _names(ckan, q="tags:city") == [DATASET]
    assert _names(ckan, q="organization:transit-agency") == ["bus-stops"]
    assert _names(ckan, q="+organization:city-of-example AND +tags:noise") == ["noise-complaints"]
    assert _names(ckan, q="organization:city-of-example && title:requests") == [DATASET]
    assert _names(ckan, q="text:noise") == ["noise-complaints"]
    assert _names(ckan, q="*:*") == ["bus-stops", DATASET, "noise-complaints"]


def test_filter_queries_and_column_names(ckan: ckanapi.RemoteCKAN) -> None:
    everything = ["bus-stops", DATASET, "noise-complaints"]
    assert _names(ckan, fq="res_format:CSV") == everything
    assert _names(ckan, fq='res_format:"csv"') == everything
    assert _names(ckan, fq="res_format:XLSX") == []
    assert _names(ckan, fq="organization:city-of-example") == [DATASET, "noise-complaints"]
    assert _names(ckan, fq="tags:noise") == ["noise-complaints"]
    assert _names(ckan, fq="tags:noise AND organization:transit-agency") == []
    assert _names(ckan, fq_list=["organization:city-of-example", "tags:city"]) == [DATASET]
    # A dataset is found by one of its column names, alone or with filters
    assert _names(ckan, q="complaint_type") == ["noise-complaints"]
    assert _names(ckan, q="complaint_type", fq="organization:city-of-example +res_format:CSV") == ["noise-complaints"]
    assert _names(ckan, q="response_hours") == ["bus-stops", DATASET]
    assert _names(ckan, q="complaint_type tags:noise") == ["noise-complaints"]


@pytest.mark.parametrize("params", [
    {"q": "noise OR party"}, {"q": "-tags:city"}, {"q": "NOT tags:city"}, {"q": "title:noi*"},
    {"q": "(tags:city)"}, {"q": 'tags:"unbalanced'}, {"q": "name:[a TO z]"}, {"q": "title:noise^2"},
    {"fq": "colour:red"}, {"fq": "tags:"}, {"fq_list": "tags:city"},
])
def test_unsupported_syntax_is_a_ckan_search_error(ckan: ckanapi.RemoteCKAN, server: str,
                                                   params: dict[str, str]) -> None:
    with pytest.raises(ckanapi.SearchQueryError):
        ckan.action.package_search(**params)
    answer = httpx.post(f"{server}/api/3/action/package_search", json=params)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["success"] is False and body["error"]["__type"] == "Search Query Error"
    assert body["error"]["message"]


def test_get_with_solr_syntax_in_the_query_string(server: str, tmp_path: Path) -> None:
    answer = httpx.get(f"{server}/api/3/action/package_search",
                       params={"q": 'title:"noise complaints"', "fq": "+res_format:CSV +organization:city-of-example"})
    assert answer.status_code == 200
    assert [p["name"] for p in answer.json()["result"]["results"]] == ["noise-complaints"]
