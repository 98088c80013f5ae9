"""Webhooks per Standard Webhooks: signatures checked with the ``standardwebhooks`` package, retries on the
schedule, disabling after repeated failures, the delivery log, row filters, and SSRF refusals.

Targets are a real HTTP server on loopback (``Receiver``), so these tests allow private targets, except
the SSRF tests, which run with the default setting."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from api.webhook_delivery import Dispatcher
from catalog.api_keys import ApiKeyStore
from tests.api_fixtures import DATASET, ApiHome, build_home, requests_table
from tests.geo_fixtures import publish_alerts
from tests.webhook_receiver import Receiver

SUBSCRIPTIONS = "/api/v1/subscriptions"


@pytest.fixture
def home(tmp_path: Path) -> ApiHome:
    return build_home(tmp_path, webhook_allow_private_targets=True, webhook_retry_seconds=[0, 0],
                      webhook_disable_after=3, webhook_dispatch=False)


def key_headers(home: ApiHome, name: str = "farm-app") -> dict[str, str]:
    return {"Authorization": f"Bearer {ApiKeyStore(home.catalog.database).create(name).key}"}


def subscribe(home: ApiHome, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = home.client().post(SUBSCRIPTIONS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def dispatcher(home: ApiHome) -> Dispatcher:
    from api.engine import QueryEngine

    return Dispatcher(home.settings, home.catalog, QueryEngine(home.settings))


def test_a_delivery_is_signed_as_standard_webhooks_verifies(home: ApiHome, receiver: Receiver) -> None:
    headers = key_headers(home)
    made = subscribe(home, headers, url=receiver.url, events=["release.published"], dataset=DATASET)
    assert made["secret"].startswith("whsec_") and made["active"]
    home.publish(requests_table(30))
    sender = dispatcher(home)
    assert sender.run_due() == 1
    sender.close()
    [(sent_headers, body)] = receiver.requests
    payload = Webhook(made["secret"]).verify(body, sent_headers)  # raises when the signature is wrong
    assert payload["type"] == "release.published"
    assert payload["data"]["dataset"] == DATASET and payload["data"]["release"] == 2 and payload["data"]["rows"] == 30
    with pytest.raises(Exception, match="(?i)signature"):
        Webhook(made["secret"]).verify(body + b" ", sent_headers)
    log = home.client().get(f"{SUBSCRIPTIONS}/{made['id']}/deliveries", headers=headers).json()["deliveries"]
    assert [(d["status"], d["attempts"], d["last_status"]) for d in log] == [("delivered", 1, 204)]
    assert log[0]["message_id"] == sent_headers["webhook-id"]


def test_failures_are_retried_with_the_same_message_id_then_logged(home: ApiHome, receiver: Receiver) -> None:
    headers = key_headers(home)
    made = subscribe(home, headers, url=receiver.url)
    receiver.statuses = [500, 503]
    home.publish(requests_table(30))
    sender = dispatcher(home)
    for _ in range(3):
        sender.run_due()
    sender.close()
    assert len(receiver.requests) == 3
    assert len({h["webhook-id"] for h, _ in receiver.requests}) == 1  # one message, three attempts
    for sent_headers, body in receiver.requests:
        Webhook(made["secret"]).verify(body, sent_headers)
    log = home.client().get(f"{SUBSCRIPTIONS}/{made['id']}/deliveries", headers=headers).json()["deliveries"]
    assert [(d["status"], d["attempts"], d["last_status"]) for d in log] == [("delivered", 3, 204)]
    assert home.client().get(f"{SUBSCRIPTIONS}/{made['id']}", headers=headers).json()["failures"] == 0


def test_repeated_failures_disable_the_subscription_until_enabled(home: ApiHome, receiver: Receiver) -> None:
    headers = key_headers(home)
    made = subscribe(home, headers, url=receiver.url)
    receiver.statuses = [500] * 10
    home.publish(requests_table(30))
    sender = dispatcher(home)
    for _ in range(4):
        sender.run_due()
    client = home.client()
    found = client.get(f"{SUBSCRIPTIONS}/{made['id']}", headers=headers).json()
    assert not found["active"] and "3 failed deliveries" in found["disabled_reason"]
    log = client.get(f"{SUBSCRIPTIONS}/{made['id']}/deliveries", headers=headers).json()["deliveries"]
    assert [(d["status"], d["attempts"], d["last_error"]) for d in log] == [("failed", 3, "HTTP 500")]
    home.publish(requests_table(31))  # no delivery is queued for a disabled subscription
    assert sender.run_due() == 0
    assert client.post(f"{SUBSCRIPTIONS}/{made['id']}/enable", headers=headers).json()["active"]
    receiver.statuses = []
    home.publish(requests_table(32))
    assert sender.run_due() == 1
    sender.close()
    assert json.loads(receiver.requests[-1][1])["data"]["rows"] == 32


def test_a_row_filter_delivers_only_releases_with_matching_rows(home: ApiHome, receiver: Receiver) -> None:
    headers = key_headers(home)
    publish_alerts(home)  # release 1 of weather-alerts, before the subscriptions
    farm = subscribe(home, headers, url=receiver.url, dataset="weather-alerts", filter="contains=31.8,-86.55")
    ocean = subscribe(home, headers, url=receiver.url + "?ocean", dataset="weather-alerts",
                      filter="contains=0,-30")
    publish_alerts(home)  # release 2: the same alerts
    sender = dispatcher(home)
    assert sender.run_due() == 2
    sender.close()
    [(sent_headers, body)] = receiver.requests
    payload = Webhook(farm["secret"]).verify(body, sent_headers)
    assert payload["data"]["matching_rows"] == 1 and payload["data"]["sample"][0]["polygon"]["type"] == "Polygon"
    log = home.client().get(f"{SUBSCRIPTIONS}/{ocean['id']}/deliveries", headers=headers).json()["deliveries"]
    assert [d["status"] for d in log] == ["skipped"]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/hook", "http://192.168.0.10/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/hook", "http://[fe80::1]/hook",
    "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/", "ftp://example.com/", "file:///etc/passwd",
])
def test_private_loopback_and_link_local_targets_are_refused(tmp_path: Path, url: str) -> None:
    home = build_home(tmp_path, webhook_dispatch=False)
    response = home.client().post(SUBSCRIPTIONS, json={"url": url}, headers=key_headers(home))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["detail"] == {"parameter": "url"}


def test_a_target_is_checked_again_before_each_attempt(home: ApiHome, receiver: Receiver, tmp_path: Path) -> None:
    headers = key_headers(home)
    made = subscribe(home, headers, url=receiver.url)  # allowed by this home's operator setting
    home.publish(requests_table(30))
    strict = home.settings.model_copy(update={"webhook_allow_private_targets": False, "webhook_retry_seconds": []})
    from api.engine import QueryEngine

    sender = Dispatcher(strict, home.catalog, QueryEngine(strict))
    sender.run_due()
    sender.close()
    assert receiver.requests == []
    log = home.client().get(f"{SUBSCRIPTIONS}/{made['id']}/deliveries", headers=headers).json()["deliveries"]
    assert log[0]["status"] == "failed" and "loopback" in log[0]["last_error"]


def test_subscriptions_need_a_key_and_belong_to_it(home: ApiHome, receiver: Receiver) -> None:
    client = home.client()
    assert client.post(SUBSCRIPTIONS, json={"url": receiver.url}).status_code == 401
    mine = subscribe(home, key_headers(home, "a"), url=receiver.url)
    other = key_headers(home, "b")
    assert client.get(f"{SUBSCRIPTIONS}/{mine['id']}", headers=other).status_code == 404
    assert client.get(SUBSCRIPTIONS, headers=other).json() == {"subscriptions": []}
    bad = client.post(SUBSCRIPTIONS, json={"url": receiver.url, "events": ["release.eaten"]}, headers=other)
    assert bad.status_code == 400
    bad_filter = client.post(SUBSCRIPTIONS, json={"url": receiver.url, "dataset": DATASET, "filter": "nope=1"},
                             headers=other)
    assert bad_filter.status_code == 400 and "nope" in bad_filter.json()["error"]["message"]
    assert client.delete(f"{SUBSCRIPTIONS}/{mine['id']}", headers=other).status_code == 404


class RebindingResolver:
    """A DNS that answers a public address to the first lookup of ``host`` and loopback after (rebinding),
    behind the real interface (``socket.getaddrinfo``); ``connects`` records the TCP connects made, and a
    connect to the public address reaches ``public_to`` (the receiver standing in for that host) or fails."""

    PUBLIC = "8.8.8.8"

    def __init__(self, monkeypatch: pytest.MonkeyPatch, host: str, public_to: tuple[str, int] | None) -> None:
        self.lookups = 0
        self.connects: list[tuple[str, int]] = []
        real_lookup, real_connect = socket.getaddrinfo, socket.create_connection

        def lookup(name: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if name != host:
                return real_lookup(name, port, *args, **kwargs)
            self.lookups += 1
            address = self.PUBLIC if self.lookups == 1 else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port)))]

        def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
            self.connects.append((str(address[0]), int(address[1])))
            if address[0] == self.PUBLIC:
                if public_to is None:
                    raise ConnectionRefusedError("unreachable in the test")
                address = public_to
            return real_connect(address, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", lookup)
        monkeypatch.setattr(socket, "create_connection", connect)


def strict_dispatcher(home: ApiHome) -> Dispatcher:
    from api.engine import QueryEngine

    strict = home.settings.model_copy(update={"webhook_allow_private_targets": False, "webhook_retry_seconds": [],
                                              "webhook_timeout_seconds": 5.0})
    return Dispatcher(strict, home.catalog, QueryEngine(strict))


def test_a_rebinding_dns_cannot_send_a_checked_delivery_to_loopback(
    home: ApiHome, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = receiver.server.server_address[1]
    headers = key_headers(home)
    made = subscribe(home, headers, url=f"http://rebind.test:{port}/hook")
    home.publish(requests_table(30))
    dns = RebindingResolver(monkeypatch, "rebind.test", public_to=None)
    sender = strict_dispatcher(home)
    sender.run_due()
    sender.close()
    assert dns.lookups == 1  # checked once, then connected to what was checked: never resolved again
    assert dns.connects == [(RebindingResolver.PUBLIC, port)]
    assert receiver.requests == []  # the loopback answer of the second lookup was never used
    log = home.client().get(f"{SUBSCRIPTIONS}/{made['id']}/deliveries", headers=headers).json()["deliveries"]
    assert log[0]["status"] == "failed" and "could not reach" in log[0]["last_error"]


def test_a_pinned_delivery_keeps_the_host_name_and_its_signature(
    home: ApiHome, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = receiver.server.server_address[1]
    made = subscribe(home, key_headers(home), url=f"http://rebind.test:{port}/hook")
    home.publish(requests_table(30))
    dns = RebindingResolver(monkeypatch, "rebind.test", public_to=("127.0.0.1", port))
    sender = strict_dispatcher(home)
    assert sender.run_due() == 1
    sender.close()
    assert dns.connects == [(RebindingResolver.PUBLIC, port)]
    [(sent_headers, body)] = receiver.requests
    assert sent_headers["host"] == f"rebind.test:{port}"  # the URL's host, not the address connected to
    assert Webhook(made["secret"]).verify(body, sent_headers)["data"]["rows"] == 30
