"""Where a webhook may go (SSRF), and a connection pinned to the address that was checked.

``public_addresses`` resolves a target's host once and refuses it unless every address is public (not
private, loopback, link-local, multicast, reserved or unspecified); when an operator allows private
targets the addresses are returned unchecked, and the attempt is pinned to them just the same (one code
path). Checking a name and then letting the HTTP client resolve it again would leave a DNS-rebinding
window: a resolver that answers a public address to the check and ``127.0.0.1`` (or ``169.254.169.254``)
to the connect. So the delivery client's transport (``PinnedTransport``) never resolves: its network
backend connects the TCP socket to the addresses the check returned, given to it for the one request the
thread makes (``pinned``); a connection the pool opens without them is refused. Only the TCP connect
changes: the URL, the ``Host`` header, TLS SNI and certificate verification all still use the target's
host name (httpcore takes them from the request's URL, not from the socket). Proxies from the
environment are not used (they would connect by name). A pooled keep-alive connection stays on the
address it was opened to. Certificates are verified against certifi's bundle, or ``webhook_ca_file``
when an operator names one (an internal CA).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from opendata.errors import QueryError


def public_addresses(url: str, allow_private: bool) -> tuple[str, ...]:
    """The addresses a webhook URL's host resolves to, each checked to be public (SSRF); QueryError
    otherwise. With ``allow_private`` (an operator's choice) they are resolved and returned unchecked, so
    the attempt is pinned to them all the same."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise QueryError("the webhook url must be an http:// or https:// URL with a host", parameter="url")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise QueryError(f"the webhook host '{parts.hostname}' does not resolve", parameter="url") from None
    found: list[str] = []
    for info in infos:
        text = str(info[4][0]).split("%")[0]
        address = ipaddress.ip_address(text)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not allow_private and (not address.is_global or address.is_multicast):
            raise QueryError(
                f"the webhook host '{parts.hostname}' resolves to {address}, a private, loopback or link-local "
                "address: webhooks go to public addresses only (an operator may allow private targets)",
                parameter="url",
            )
        if text not in found:
            found.append(text)
    if not found:
        raise QueryError(f"the webhook host '{parts.hostname}' does not resolve", parameter="url")
    return tuple(found)


def check_target(url: str, allow_private: bool) -> None:
    """Refuse a webhook URL that is not http(s), or whose host resolves to a non-public address (SSRF).
    With ``allow_private`` only the URL's form is checked (its host may not resolve yet)."""
    parts = urlsplit(url)
    if allow_private and parts.scheme in ("http", "https") and parts.hostname:
        return
    public_addresses(url, allow_private)


def ssl_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """What target certificates are verified against: ``ca_file`` (PEM) when given, else certifi's bundle.
    Host names are checked (SNI and the certificate's names come from the URL, not the pinned address)."""
    if ca_file is None:
        return httpx.create_ssl_context(trust_env=False)
    return ssl.create_default_context(cafile=str(ca_file))


DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class PinnedBackend(httpcore.NetworkBackend):
    """Opens TCP connections to the addresses pinned for the calling thread's request, never by name."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()
        self._local = threading.local()

    @contextmanager
    def pinned(self, addresses: tuple[str, ...]) -> Iterator[None]:
        self._local.addresses = addresses
        try:
            yield
        finally:
            self._local.addresses = ()

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses: tuple[str, ...] = getattr(self._local, "addresses", ())
        if not addresses:
            raise httpcore.ConnectError(f"no checked address for {host}: the webhook target was not checked")
        failure: Exception | None = None
        for address in addresses:  # as socket.create_connection tries each address of a name, in order
            try:
                return self._backend.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("webhooks are not sent to unix sockets")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class PinnedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool whose connections go to the pinned, checked addresses."""

    def __init__(self, limits: httpx.Limits = DEFAULT_LIMITS, ca_file: Path | None = None) -> None:
        super().__init__(trust_env=False, limits=limits)
        self.backend = PinnedBackend()
        # the pool httpx would build, with our network backend (httpcore's documented extension point)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context(ca_file),
            max_connections=limits.max_connections, max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, network_backend=self.backend,
        )
