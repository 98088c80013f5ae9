"""Rows of the real app over real Parquet: keyset paging, pinned cursors, typed filters, CSV, 400s."""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.api_fixtures import DATASET, ApiHome, TestClient, build_home, requests_table

ROWS = f"/api/v1/datasets/{DATASET}/rows"
COLUMNS = ["request_id", "category", "opened_on", "opened_at", "response_hours", "closed", "ward name"]


@pytest.fixture
def home(tmp_path: Path) -> ApiHome:
    return build_home(tmp_path, page_limit_default=40, page_limit_max=100)


@pytest.fixture
def client(home: ApiHome) -> TestClient:
    return home.client()


def all_pages(client: TestClient, url: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        body = client.get(url, params={**params, **({"cursor": cursor} if cursor else {})}).json()
        rows.extend(body["rows"])
        cursor = body["next"]
        if cursor is None:
            return rows


def error_of(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == status
    return error


def test_first_page_uses_the_default_limit_and_typed_json(client: TestClient) -> None:
    body = client.get(ROWS).json()
    assert body["release"] == 1
    assert len(body["rows"]) == 40 and body["next"]
    first = body["rows"][0]
    assert list(first) == COLUMNS  # schema order, no file_row_number
    assert first == {
        "request_id": 1, "category": "graffiti", "opened_on": "2024-01-02",
        "opened_at": "2024-01-02T08:01:00+00:00", "response_hours": 0.5, "closed": False,
        "ward name": "Ward 1",
    }


@pytest.mark.parametrize("limit", [1, 7, 64, 100])
def test_cursor_pages_return_every_row_once_in_order(client: TestClient, limit: int) -> None:
    rows = all_pages(client, ROWS, limit=limit)
    assert [r["request_id"] for r in rows] == list(range(1, 251))


def test_last_page_has_no_next(client: TestClient) -> None:
    body = client.get(ROWS, params={"limit": 100}).json()
    body = client.get(ROWS, params={"limit": 100, "cursor": body["next"]}).json()
    body = client.get(ROWS, params={"limit": 100, "cursor": body["next"]}).json()
    assert len(body["rows"]) == 50 and body["next"] is None


def test_cursor_stays_on_its_release_after_a_new_release(home: ApiHome, client: TestClient) -> None:
    first = client.get(ROWS, params={"limit": 100}).json()
    home.publish(requests_table(300, first_id=5001))  # release 2
    assert client.get(ROWS, params={"limit": 1}).json()["rows"][0]["request_id"] == 5001
    second = client.get(ROWS, params={"limit": 100, "cursor": first["next"]}).json()
    assert second["release"] == 1
    assert [r["request_id"] for r in second["rows"]] == list(range(101, 201))
    assert client.get(ROWS, params={"cursor": first["next"], "release": 1}).status_code == 200
    error = error_of(client.get(ROWS, params={"cursor": first["next"], "release": 2}))
    assert error["detail"]["parameter"] == "release"


def test_release_parameter_pins_an_older_release(home: ApiHome, client: TestClient) -> None:
    home.publish(requests_table(30, first_id=5001))
    rows = all_pages(client, ROWS, release=1, limit=100)
    assert len(rows) == 250 and rows[0]["request_id"] == 1


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"request_id": "17"}, [17]),
        ({"category": "noise", "closed": "true"}, [i for i in range(1, 251) if i % 4 == 3 and i % 3 == 0]),
        ({"opened_on": "2024-01-05"}, [i for i in range(1, 251) if i % 10 == 4]),
        ({"opened_at": "2024-01-02T08:11:00Z"}, [11]),
        ({"opened_at": "2024-01-02T09:11:00+01:00"}, [11]),
        ({"response_hours": "12.5"}, [25]),
        ({"closed": "0", "ward name": "Ward 2"}, [i for i in range(1, 251) if i % 3 and i % 5 == 2]),
        ({"category": "no such category"}, []),
    ],
)
def test_filters_are_typed_equality(client: TestClient, params: dict[str, str], expected: list[int]) -> None:
    rows = all_pages(client, ROWS, limit=9, **params)
    assert [r["request_id"] for r in rows] == expected


def test_filter_value_that_would_be_sql_is_just_a_value(client: TestClient) -> None:
    body = client.get(ROWS, params={"category": "x' OR 1=1 --"}).json()
    assert body["rows"] == [] and body["next"] is None


def test_csv_output_parses_with_a_header_row(client: TestClient) -> None:
    response = client.get(ROWS, params={"format": "csv", "limit": 100, "category": "pothole"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    records = list(csv.DictReader(io.StringIO(response.text)))
    assert list(records[0]) == COLUMNS
    assert [int(r["request_id"]) for r in records] == [i for i in range(1, 251) if i % 4 == 0]
    assert records[0]["opened_at"] == "2024-01-05T08:04:00+00:00"
    assert records[0]["closed"] in ("true", "false")
    assert "next" not in response.headers.get("link", "")


def test_csv_pages_link_to_the_next_page(client: TestClient) -> None:
    response = client.get(ROWS, params={"format": "csv", "limit": 100})
    cursor = response.headers["x-next-cursor"]
    assert 'rel="next"' in response.headers["link"]
    following = client.get(ROWS, params={"format": "csv", "limit": 100, "cursor": cursor})
    ids = [int(r["request_id"]) for r in csv.DictReader(io.StringIO(following.text))]
    assert ids == list(range(101, 201))


def test_unknown_parameter_names_it_and_lists_the_columns(client: TestClient) -> None:
    error = error_of(client.get(ROWS, params={"colour": "red"}))
    assert error["type"] == "invalid-query"
    assert "'colour'" in error["message"]
    for column in COLUMNS:
        assert column in error["message"]
    assert error["detail"]["parameter"] == "colour"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("request_id", "seventeen"),
        ("request_id", "1.5"),
        ("response_hours", "nan"),
        ("opened_on", "2024-13-01"),
        ("opened_at", "yesterday"),
        ("closed", "maybe"),
    ],
)
def test_value_that_does_not_parse_for_its_type_is_400(client: TestClient, column: str, value: str) -> None:
    error = error_of(client.get(ROWS, params={column: value}))
    assert error["detail"]["parameter"] == column
    assert f"'{value}'" in error["message"] and column in error["message"]


def test_repeated_filter_is_400(client: TestClient) -> None:
    error = error_of(client.get(f"{ROWS}?category=noise&category=pothole"))
    assert error["detail"]["parameter"] == "category"


def test_limit_over_the_cap_is_400_saying_the_cap(client: TestClient) -> None:
    error = error_of(client.get(ROWS, params={"limit": 101}))
    assert "100" in error["message"] and error["detail"]["parameter"] == "limit"
    assert error_of(client.get(ROWS, params={"limit": 0}))["type"] == "invalid-parameter"
    assert error_of(client.get(ROWS, params={"format": "xml"}))["type"] == "invalid-parameter"


def tamper(token: str) -> str:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    version, release, _after, fhash, check = raw.split(".")
    forged = f"{version}.{release}.5.{fhash}.{check}"
    return base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")


def test_tampered_or_garbage_cursor_is_400(client: TestClient) -> None:
    token = client.get(ROWS, params={"limit": 10}).json()["next"]
    for bad in (tamper(token), token[:-3], "not-a-cursor", "%%%", token + "AAAA"):
        error = error_of(client.get(ROWS, params={"cursor": bad}))
        assert error["detail"]["parameter"] == "cursor", bad


def test_cursor_of_other_filters_or_dataset_is_400(home: ApiHome, client: TestClient) -> None:
    token = client.get(ROWS, params={"limit": 5, "category": "noise"}).json()["next"]
    assert client.get(ROWS, params={"cursor": token, "category": "noise"}).status_code == 200
    assert error_of(client.get(ROWS, params={"cursor": token}))["detail"]["parameter"] == "cursor"
    assert error_of(client.get(ROWS, params={"cursor": token, "category": "pothole"}))
    home.add_dataset("bus-stops")
    home.publish(requests_table(20), dataset="bus-stops")
    other = client.get("/api/v1/datasets/bus-stops/rows", params={"cursor": token, "category": "noise"})
    error = error_of(other)
    assert error["detail"]["parameter"] == "cursor"
