"""The ``next`` link of a rows page (``api.routes.rows.with_cursor``): a plain query string is copied rather
than parsed and quoted again, and the link is the one parsing and quoting give, for any query string."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from starlette.datastructures import URL

from api.routes.rows import with_cursor
from tests.api_fixtures import DATASET, ApiHome, build_home

QUERIES = ["", "route=R007&limit=100", "route=R007&limit=100&cursor=abc", "cursor=x", "a=&b=1", "a", "a&b=2",
           "x=1&&y=2", "order=-trip_id", "order=-trip_id,route", "q=a+b", "q=a%20b", "cursorx=1&cursor=2", "k=%63",
           "é=1", "a=1&cursor", "_=1", "a.b~c-d=e.f~g-h", "ward name=Ward 3"]


def parsed_and_quoted(url: URL, cursor: str) -> str:
    kept = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k != "cursor"]
    return url.components._replace(query=urlencode([*kept, ("cursor", cursor)])).geturl()


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("base", ["http://127.0.0.1:8000/api/v1/datasets/x/rows", "https://h.example/a%20b/rows"])
def test_the_next_link_is_the_parsed_and_quoted_one(query: str, base: str) -> None:
    url = URL(base + (f"?{query}" if query else ""))
    for cursor in ("eyJyIjoxfQ", "a+b/c=="):
        assert with_cursor(url, cursor) == parsed_and_quoted(url, cursor)


def test_following_next_links_pages_through_every_row(tmp_path: object) -> None:
    from pathlib import Path

    home: ApiHome = build_home(Path(str(tmp_path)))
    client = home.client()
    url: str | None = f"/api/v1/datasets/{DATASET}/rows?category=pothole&limit=7"
    ids: list[int] = []
    while url:
        answer = client.get(url)
        assert answer.status_code == 200
        ids += [row["request_id"] for row in answer.json()["rows"]]
        url = answer.json()["next"] and answer.headers["link"].split(">")[0].removeprefix("<")
        assert url is None or "category=pothole&limit=7&cursor=" in url
    everything = client.get(f"/api/v1/datasets/{DATASET}/rows", params={"category": "pothole", "limit": 1000})
    assert ids == [row["request_id"] for row in everything.json()["rows"]] and ids
