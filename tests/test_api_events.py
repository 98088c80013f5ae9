"""Change notifications: SSE with Last-Event-ID resume over a real uvicorn server, and Atom feeds."""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog.events import EventLog
from tests.api_fixtures import DATASET, ApiHome, build_home, requests_table
from tests.web_fixtures import LiveServer

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def home(tmp_path: Path) -> ApiHome:
    return build_home(tmp_path, events_poll_seconds=0.05, events_heartbeat_seconds=0.2, webhook_dispatch=False)


def read_events(url: str, count: int, headers: dict[str, str] | None = None,
                params: dict[str, Any] | None = None, then: Any = None) -> list[dict[str, Any]]:
    """The first ``count`` events of the stream (``then`` runs once the stream is open)."""
    found: list[dict[str, Any]] = []
    headers = {"Accept": "text/event-stream", **(headers or {})}
    with httpx.stream("GET", f"{url}/api/v1/events", headers=headers, params=params, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        current: dict[str, Any] = {}
        for line in response.iter_lines():
            if then is not None and line.startswith(": events after"):
                threading.Thread(target=then).start()
                then = None
            if line.startswith("id: "):
                current["id"] = line[4:]
            elif line.startswith("event: "):
                current["event"] = line[7:]
            elif line.startswith("data: "):
                current["data"] = json.loads(line[6:])
            elif line == "" and "id" in current:
                found.append(current)
                current = {}
                if len(found) == count:
                    return found
    return found


def test_sse_streams_new_releases_and_resumes_after_last_event_id(home: ApiHome) -> None:
    with LiveServer(home.settings) as server:
        events = read_events(server.url, 1, then=lambda: home.publish(requests_table(40)))
        assert events[0]["event"] == "release.published"
        assert events[0]["data"] == {**events[0]["data"], "dataset": DATASET, "release": 2, "rows": 40}
        first_id = events[0]["id"]
        home.publish(requests_table(50))  # published while the client is away
        home.publish(requests_table(60))
        resumed = read_events(server.url, 2, headers={"Last-Event-ID": first_id})
        assert [(e["data"]["release"], e["data"]["rows"]) for e in resumed] == [(3, 50), (4, 60)]
        assert [int(e["id"]) for e in resumed] == sorted(int(e["id"]) for e in resumed)
        replay = read_events(server.url, 4, params={"after": 0, "dataset": DATASET})
        assert [e["data"]["release"] for e in replay] == [1, 2, 3, 4]


def test_approval_and_withdrawal_are_events(home: ApiHome) -> None:
    from catalog.approvals import Approvals

    log = EventLog(home.catalog.database)
    start = log.last_id()
    Approvals(home.catalog).decide("air-quality", 1, "approved", by="officer", role="officer", via="cli",
                                   reason="reviewed the privacy report")
    home.catalog.withdraw_release(DATASET, 1)
    found = log.after(start)
    assert [(e.type, e.dataset, e.release) for e in found] == [
        ("release.published", "air-quality", 1), ("release.withdrawn", DATASET, 1)]
    client = home.client()
    assert client.get(f"/api/v1/datasets/{DATASET}/releases/1").status_code == 404  # no longer served


def test_without_the_stream_accept_header_events_come_as_json(home: ApiHome) -> None:
    home.publish(requests_table(40))
    client = home.client()
    body = client.get("/api/v1/events", params={"after": 0}).json()
    assert [(e["type"], e["release"]) for e in body["events"]] == [("release.published", 1),
                                                                   ("release.published", 2)]
    assert client.get("/api/v1/events", headers={"Last-Event-ID": str(body["last_event_id"])}).json() == {
        "events": [], "last_event_id": body["last_event_id"]}


def test_bad_event_requests_get_clear_errors(home: ApiHome) -> None:
    client = home.client()
    assert client.get("/api/v1/events", params={"types": "release.eaten"}).json()["error"]["detail"] == {
        "parameter": "types"}
    assert client.get("/api/v1/events", headers={"Last-Event-ID": "abc"}).status_code == 400
    assert client.get("/api/v1/events", params={"dataset": "nope"}).status_code == 404


def test_atom_feeds_of_releases(home: ApiHome) -> None:
    home.publish(requests_table(40))
    client = home.client()
    response = client.get(f"/api/v1/datasets/{DATASET}/releases.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed" and feed.find(f"{ATOM}id") is not None and feed.find(f"{ATOM}updated") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == [f"{DATASET}: release 2", f"{DATASET}: release 1"]
    for entry in entries:  # RFC 4287: each entry has id, title, updated; links resolve
        link = entry.find(f"{ATOM}link").get("href")
        assert client.get(link).status_code == 200
    catalog = ET.fromstring(client.get("/api/v1/releases.atom").content)
    assert {e.find(f"{ATOM}title").text for e in catalog.findall(f"{ATOM}entry")} == {
        f"{DATASET}: release 2", f"{DATASET}: release 1"}  # air-quality awaits approval: not in the feed


def test_withdraw_verb(home: ApiHome) -> None:
    from opendata.cli import main

    assert main(["--home", str(home.settings.home), "withdraw", DATASET, "1"]) == 0
    assert [e.type for e in EventLog(home.catalog.database).after(0)][-1] == "release.withdrawn"
    assert main(["--home", str(home.settings.home), "withdraw", DATASET, "1"]) == 2  # no longer published
