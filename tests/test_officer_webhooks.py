"""Officers hear of a release that starts waiting through a Standard Webhooks subscription
(``release.awaiting_approval``): only an officer or admin key may subscribe to it, the delivery is signed
(checked with the ``standardwebhooks`` package) and carries counts and links, never a source value, and the
event never reaches the public event stream (SSE over a real uvicorn server, ``Last-Event-ID`` resume and
the JSON answer all skip it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook

from api.app import create_app
from api.engine import QueryEngine
from api.webhook_delivery import Dispatcher
from catalog.api_keys import ApiKeyStore
from catalog.store import Catalog
from catalog.webhooks import WebhookStore
from opendata.settings import Settings
from publishers.runner import run_job
from tests.api_fixtures import DATASET, ApiHome, build_home, requests_table
from tests.conftest import PEOPLE_PRIVACY, JobWriter
from tests.test_api_events import read_events
from tests.web_fixtures import LiveServer
from tests.webhook_receiver import Receiver

SUBSCRIPTIONS = "/api/v1/subscriptions"
AWAITING = "release.awaiting_approval"


@pytest.fixture
def home(tmp_path: Path) -> ApiHome:
    return build_home(tmp_path, webhook_allow_private_targets=True, webhook_dispatch=False,
                      events_poll_seconds=0.05, events_heartbeat_seconds=0.2)


def bearer(catalog: Catalog, name: str, role: str = "developer") -> dict[str, str]:
    return {"Authorization": f"Bearer {ApiKeyStore(catalog.database).create(name, role).key}"}  # type: ignore[arg-type]


def sent(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """Every payload the receiver got, each verified against the subscription's secret."""
    return [Webhook(secret).verify(body, headers) for headers, body in receiver.requests]


def test_only_officer_and_admin_keys_may_subscribe_to_waiting_releases(home: ApiHome, receiver: Receiver) -> None:
    client = home.client()
    developer = client.post(SUBSCRIPTIONS, json={"url": receiver.url, "events": [AWAITING]},
                            headers=bearer(home.catalog, "farm-app"))
    assert developer.status_code == 403
    error = developer.json()["error"]
    assert error["type"] == "forbidden" and AWAITING in error["message"] and "officer" in error["message"]
    mixed = client.post(SUBSCRIPTIONS, json={"url": receiver.url, "events": ["release.published", AWAITING]},
                        headers=bearer(home.catalog, "farm-app-2"))
    assert mixed.status_code == 403
    assert client.post(SUBSCRIPTIONS, json={"url": receiver.url, "events": [AWAITING]}).status_code == 401
    for role in ("officer", "admin"):
        made = client.post(SUBSCRIPTIONS, json={"url": receiver.url, "events": [AWAITING]},
                           headers=bearer(home.catalog, f"dana-{role}", role))
        assert made.status_code == 201, made.text
        assert made.json()["events"] == [AWAITING]
    # an officer may follow a dataset none of whose releases is published yet ("air-quality" waits)
    scoped = client.post(SUBSCRIPTIONS, json={"url": receiver.url, "events": [AWAITING], "dataset": "air-quality"},
                         headers=bearer(home.catalog, "lee", "officer"))
    assert scoped.status_code == 201, scoped.text
    # a developer's default subscription does not include the officers' event
    default = client.post(SUBSCRIPTIONS, json={"url": receiver.url}, headers=bearer(home.catalog, "farm-app-3"))
    assert default.status_code == 201 and AWAITING not in default.json()["events"]


def test_the_officers_webhook_hears_of_a_waiting_release_and_the_public_stream_never_does(
    home: ApiHome, receiver: Receiver
) -> None:
    client = home.client()
    officer = client.post(SUBSCRIPTIONS, json={"url": receiver.url, "events": [AWAITING]},
                          headers=bearer(home.catalog, "dana", "officer")).json()
    developer_receiver = Receiver()
    try:
        developer = client.post(SUBSCRIPTIONS, json={"url": developer_receiver.url},  # every public event
                                headers=bearer(home.catalog, "farm-app")).json()
        with LiveServer(home.settings) as server:
            before = client.get("/api/v1/events").json()["last_event_id"]

            def publish_both() -> None:
                home.publish(requests_table(12), state="awaiting-approval")  # release 2 waits
                home.publish(requests_table(40))  # release 3 is published

            events = read_events(server.url, 1, then=publish_both)
            assert [(e["event"], e["data"]["release"]) for e in events] == [("release.published", 3)]
            # resuming from before both, anonymous or with the officer's own key, skips the waiting release
            for headers in ({}, bearer(home.catalog, "dana-stream", "officer")):
                resumed = read_events(server.url, 1, headers={"Last-Event-ID": str(before), **headers})
                assert [(e["event"], e["data"]["release"]) for e in resumed] == [("release.published", 3)]
            polled = client.get("/api/v1/events", params={"after": 0}).json()["events"]
            assert polled and all(e["type"] != AWAITING for e in polled)
            refused = client.get("/api/v1/events", params={"types": AWAITING})
            assert refused.status_code == 400 and "officer" in refused.json()["error"]["message"]
        sender = Dispatcher(home.settings, home.catalog, QueryEngine(home.settings))
        sender.run_due()
        sender.close()
        (payload,) = sent(receiver, officer["secret"])
        assert payload["type"] == AWAITING
        assert payload["data"] == {**payload["data"], "dataset": DATASET, "release": 2, "rows": 12,
                                   "url": f"/datasets/{DATASET}/releases/2/privacy", "approvals_url": "/approvals"}
        assert [p["type"] for p in sent(developer_receiver, developer["secret"])] == ["release.published"]
    finally:
        developer_receiver.close()


def test_a_run_that_waits_for_approval_notifies_the_officers_webhook_without_source_values(
    settings: Settings, write_job: JobWriter, receiver: Receiver
) -> None:
    configured = settings.model_copy(update={"webhook_allow_private_targets": True, "webhook_dispatch": False})
    catalog = Catalog(configured.paths.catalog_db)
    client = TestClient(create_app(configured))
    made = client.post(SUBSCRIPTIONS, json={"url": receiver.url, "events": [AWAITING]},
                       headers=bearer(catalog, "dana", "officer"))
    assert made.status_code == 201, made.text
    result = run_job(write_job(privacy={**PEOPLE_PRIVACY, "requires_approval": True}), configured)
    assert result.run.state == "awaiting-approval"
    sender = Dispatcher(configured, catalog, QueryEngine(configured))
    assert sender.run_due() == 1
    sender.close()
    ((headers, body),) = receiver.requests
    payload = Webhook(made.json()["secret"]).verify(body, headers)
    assert payload["type"] == AWAITING and payload["data"]["dataset"] == "service-requests"
    assert payload["data"]["release"] == 1 and payload["data"]["rows"] == 4
    assert payload["data"]["url"] == "/datasets/service-requests/releases/1/privacy"
    assert "maria" not in body.decode().lower()  # nothing of the source goes into the notification
    other = client.get(f"{SUBSCRIPTIONS}/{made.json()['id']}/deliveries", headers=bearer(catalog, "lee", "officer"))
    assert other.status_code == 404  # another officer's key does not see this subscription's log


def test_a_revoked_officer_key_ends_its_subscriptions_deliveries(home: ApiHome, receiver: Receiver) -> None:
    client = home.client()
    keys = ApiKeyStore(home.catalog.database)
    issued = keys.create("dana-left", "officer")
    made = client.post(SUBSCRIPTIONS, json={"url": receiver.url, "events": [AWAITING]},
                       headers={"Authorization": f"Bearer {issued.key}"})
    assert made.status_code == 201, made.text
    keys.revoke(issued.api_key.id)
    home.publish(requests_table(12), state="awaiting-approval")
    sender = Dispatcher(home.settings, home.catalog, QueryEngine(home.settings))
    assert sender.run_due() == 1
    sender.close()
    assert receiver.requests == []
    (delivery,) = WebhookStore(home.catalog.database).deliveries(made.json()["id"])
    assert delivery.status == "failed" and "revoked" in (delivery.last_error or "")
