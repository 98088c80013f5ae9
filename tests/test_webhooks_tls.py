"""HTTPS webhook targets: a real TLS server on loopback with certificates from a test CA made here (trustme).

The target's name, ``hooks.example``, resolves to 127.0.0.1 through a fake DNS behind the real interface
(``socket.getaddrinfo``); the operator allows private targets and trusts the test CA
(``webhook_ca_file``). A delivery connects to the address that was resolved (pinned), while SNI and the
certificate's host-name check use the URL's name; a certificate for another name, or from a CA nobody
trusts, fails the attempt with a delivery-log entry that says so (no traceback, no secret).
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from standardwebhooks.webhooks import Webhook

from api.engine import QueryEngine
from api.webhook_delivery import Dispatcher
from catalog.api_keys import ApiKeyStore
from tests.api_fixtures import ApiHome, build_home, requests_table

HOST = "hooks.example"
SUBSCRIPTIONS = "/api/v1/subscriptions"


class TlsReceiver:
    """An HTTPS server on 127.0.0.1 presenting ``cert``; records requests and the SNI names it was asked for."""

    def __init__(self, cert: trustme.LeafCert) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.server_names: list[str | None] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a refused handshake is what some tests want

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        context.sni_callback = lambda _sock, name, _context: receiver.server_names.append(name)  # type: ignore[assignment,func-returns-value]
        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True,
                                                 do_handshake_on_connect=False)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeDns:
    """``HOST`` resolves to 127.0.0.1; ``connects`` records every TCP connect (``socket.create_connection``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.connects: list[tuple[str, int]] = []
        real_lookup, real_connect = socket.getaddrinfo, socket.create_connection

        def lookup(name: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if name != HOST:
                return real_lookup(name, port, *args, **kwargs)
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", int(port)))]

        def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
            self.connects.append((str(address[0]), int(address[1])))
            return real_connect(address, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", lookup)
        monkeypatch.setattr(socket, "create_connection", connect)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def home(tmp_path: Path, ca: trustme.CA) -> ApiHome:
    ca_file = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return build_home(tmp_path / "home", webhook_allow_private_targets=True, webhook_retry_seconds=[],
                      webhook_dispatch=False, webhook_ca_file=ca_file, webhook_timeout_seconds=5.0)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    return FakeDns(monkeypatch)


def receiving(cert: trustme.LeafCert) -> Iterator[TlsReceiver]:
    receiver = TlsReceiver(cert)
    yield receiver
    receiver.close()


def deliver(home: ApiHome, port: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Subscribe to https://HOST:port/hook, publish a release, run the dispatcher once: (subscription, log row)."""
    headers = {"Authorization": f"Bearer {ApiKeyStore(home.catalog.database).create('tls-app').key}"}
    response = home.client().post(SUBSCRIPTIONS, json={"url": f"https://{HOST}:{port}/hook"}, headers=headers)
    assert response.status_code == 201, response.text
    made = response.json()
    home.publish(requests_table(12))
    sender = Dispatcher(home.settings, home.catalog, QueryEngine(home.settings))
    try:
        assert sender.run_due() == 1
    finally:
        sender.close()
    log = home.client().get(f"{SUBSCRIPTIONS}/{made['id']}/deliveries", headers=headers)
    assert log.status_code == 200
    [entry] = log.json()["deliveries"]
    return made, entry


def test_an_https_target_is_verified_against_the_operator_ca_on_the_pinned_address(
    home: ApiHome, ca: trustme.CA, dns: FakeDns
) -> None:
    for receiver in receiving(ca.issue_cert(HOST)):
        made, entry = deliver(home, receiver.port)
        assert (entry["status"], entry["attempts"], entry["last_status"]) == ("delivered", 1, 204)
        assert dns.connects == [("127.0.0.1", receiver.port)]  # the resolved address, connected to once
        assert receiver.server_names == [HOST]  # SNI is the URL's host name, not the address
        [(headers, body)] = receiver.requests
        assert headers["host"] == f"{HOST}:{receiver.port}"
        payload = Webhook(made["secret"]).verify(body, headers)
        assert payload["type"] == "release.published"


@pytest.mark.parametrize("wrong", ["another name", "an unknown CA"])
def test_a_wrong_certificate_fails_with_a_log_entry_that_says_so(
    home: ApiHome, ca: trustme.CA, dns: FakeDns, wrong: str
) -> None:
    cert = ca.issue_cert("other.example") if wrong == "another name" else trustme.CA().issue_cert(HOST)
    for receiver in receiving(cert):
        made, entry = deliver(home, receiver.port)
        assert receiver.requests == []  # nothing was sent over the refused connection
        assert dns.connects == [("127.0.0.1", receiver.port)]
    assert entry["status"] == "failed" and entry["last_status"] is None
    error = entry["last_error"]
    assert error.startswith("the target's TLS certificate was not accepted (")
    expected = f"not valid for '{HOST}'" if wrong == "another name" else "unable to get local issuer certificate"
    assert expected in error
    assert "Traceback" not in error and made["secret"] not in error and made["secret"][6:] not in error
