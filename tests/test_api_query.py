"""Rows with operators, select and order (keyset pages), and aggregates, over real Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api_fixtures import DATASET, TestClient, build_home, requests_table

ROWS = f"/api/v1/datasets/{DATASET}/rows"
AGGREGATE = f"/api/v1/datasets/{DATASET}/aggregate"
TABLE = requests_table(250).to_pylist()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return build_home(tmp_path_factory.mktemp("query")).client()


def all_pages(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = client.get(ROWS, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        rows.extend(response.json()["rows"])
        if (cursor := response.json()["next"]) is None:
            return rows


def ids(rows: list[dict[str, Any]]) -> list[int]:
    return [r["request_id"] for r in rows]


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"request_id__gt": "240"}, lambda r: r["request_id"] > 240),
        ({"request_id__gte": "240", "request_id__lte": "242"}, lambda r: 240 <= r["request_id"] <= 242),
        ({"response_hours__lt": "3"}, lambda r: r["response_hours"] < 3),
        ({"category__ne": "noise"}, lambda r: r["category"] != "noise"),
        ({"category__in": "noise,pothole"}, lambda r: r["category"] in ("noise", "pothole")),
        ({"ward name__contains": "WARD 3"}, lambda r: r["ward name"] == "Ward 3"),
        ({"opened_on__gte": "2024-01-09"}, lambda r: r["opened_on"].isoformat() >= "2024-01-09"),
        ({"category__isnull": "false", "closed": "true"}, lambda r: r["closed"]),
        ({"category__isnull": "true"}, lambda r: False),
        ({"request_id__in": "3,5,700"}, lambda r: r["request_id"] in (3, 5)),
    ],
)
def test_operators_filter_like_python(client: TestClient, params: dict[str, str], keep: Any) -> None:
    assert ids(all_pages(client, limit=50, **params)) == [r["request_id"] for r in TABLE if keep(r)]


def test_select_returns_those_columns_in_that_order(client: TestClient) -> None:
    rows = client.get(ROWS, params={"select": "category,request_id", "limit": 2}).json()["rows"]
    assert rows == [{"category": "graffiti", "request_id": 1}, {"category": "streetlight", "request_id": 2}]


@pytest.mark.parametrize("order", ["-response_hours", "category,-request_id", "-opened_at,ward name", "closed"])
@pytest.mark.parametrize("limit", [7, 100])
def test_ordered_pages_follow_the_order_without_gaps(client: TestClient, order: str, limit: int) -> None:
    got = all_pages(client, order=order, limit=limit)
    keys = [(c.lstrip("-"), c.startswith("-")) for c in order.split(",")]
    expected = TABLE
    for column, descending in reversed([*keys]):
        expected = sorted(expected, key=lambda r, c=column: r[c], reverse=descending)
    assert len(got) == 250 and len(set(ids(got))) == 250
    for column, _ in keys:
        assert [r[column] for r in got] == [
            v.isoformat().replace("+00:00", "+00:00") if hasattr(v, "isoformat") else v
            for v in (r[column] for r in expected)
        ]


def test_an_ordered_cursor_with_another_order_is_400(client: TestClient) -> None:
    token = client.get(ROWS, params={"order": "-request_id", "limit": 5}).json()["next"]
    follow = client.get(ROWS, params={"order": "-request_id", "limit": 5, "cursor": token}).json()
    assert ids(follow["rows"]) == [245, 244, 243, 242, 241]
    error = client.get(ROWS, params={"order": "request_id", "limit": 5, "cursor": token}).json()["error"]
    assert error["detail"]["parameter"] == "cursor"


@pytest.mark.parametrize(
    ("params", "parameter", "needle"),
    [
        ({"request_id__like": "1"}, "request_id__like", "unknown operator '__like'"),
        ({"nope__gt": "1"}, "nope__gt", "unknown query parameter 'nope__gt'"),
        ({"category__gt": "a", "select": "nope"}, "select", "unknown column 'nope'"),
        ({"order": "-nope"}, "order", "unknown column 'nope'"),
        ({"request_id__contains": "1"}, "request_id__contains", "text columns"),
        ({"closed__isnull": "maybe"}, "closed__isnull", "true or false"),
        ({"request_id__in": "1,x"}, "request_id__in", "'x' is not a valid integer"),
    ],
)
def test_bad_columns_and_operators_are_400(client: TestClient, params: dict[str, str], parameter: str,
                                           needle: str) -> None:
    response = client.get(ROWS, params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["detail"]["parameter"] == parameter and needle in error["message"]


def test_aggregate_groups_and_metrics(client: TestClient) -> None:
    body = client.get(AGGREGATE, params={
        "group_by": "category,closed", "metrics": "count,sum:response_hours,avg:request_id,max:opened_on",
        "category__ne": "noise",
    }).json()
    assert body["group_by"] == ["category", "closed"] and body["release"] == 1
    assert body["metrics"] == ["count", "sum_response_hours", "avg_request_id", "max_opened_on"]
    expected: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for row in TABLE:
        if row["category"] != "noise":
            expected.setdefault((row["category"], row["closed"]), []).append(row)
    assert [(r["category"], r["closed"]) for r in body["rows"]] == sorted(expected)
    for row in body["rows"]:
        group = expected[(row["category"], row["closed"])]
        assert row["count"] == len(group)
        assert row["sum_response_hours"] == pytest.approx(sum(r["response_hours"] for r in group))
        assert row["avg_request_id"] == pytest.approx(sum(r["request_id"] for r in group) / len(group))
        assert row["max_opened_on"] == max(r["opened_on"] for r in group).isoformat()


def test_aggregate_order_limit_and_truncation(client: TestClient) -> None:
    body = client.get(AGGREGATE, params={"group_by": "opened_on", "order": "-count,opened_on", "limit": 3}).json()
    assert len(body["rows"]) == 3 and body["truncated"] is True
    counts = [r["count"] for r in body["rows"]]
    assert counts == sorted(counts, reverse=True)
    whole = client.get(AGGREGATE).json()
    assert whole["rows"] == [{"count": 250}] and whole["truncated"] is False


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"group_by": "nope"}, "group_by"),
        ({"metrics": "median:request_id"}, "metrics"),
        ({"metrics": "sum:category"}, "metrics"),
        ({"metrics": "sum"}, "metrics"),
        ({"group_by": "category", "order": "-total"}, "order"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_aggregates_are_400(client: TestClient, params: dict[str, str], parameter: str) -> None:
    response = client.get(AGGREGATE, params=params)
    assert response.status_code == 400 and response.json()["error"]["detail"]["parameter"] == parameter


def test_deep_cursor_pages_are_exact(tmp_path: Path) -> None:
    home = build_home(tmp_path)
    home.publish(requests_table(20_000), row_group_size=1000)
    client = home.client()
    first = client.get(ROWS, params={"limit": 100}).json()
    body = first
    for _ in range(150):
        body = client.get(ROWS, params={"limit": 100, "cursor": body["next"]}).json()
    assert body["rows"][0]["request_id"] == 15_001
    assert ids(client.get(ROWS, params={"limit": 100, "cursor": body["next"]}).json()["rows"])[0] == 15_101
