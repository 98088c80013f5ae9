"""Sending webhook deliveries per the Standard Webhooks specification (https://www.standardwebhooks.com).

Each request is a JSON ``POST`` with ``webhook-id`` (the message id: the same on every retry, so a target
can drop duplicates), ``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``
(``v1,`` + base64 HMAC-SHA256 of ``"{id}.{timestamp}.{body}"`` keyed with the subscription's secret, the
bytes after ``whsec_`` in base64). The body::

    {"type": "release.published", "timestamp": "...Z",
     "data": {"dataset": ..., "release": N, "rows": ..., "url": ..., "matching_rows": ..., "sample": [...]}}

A subscription's row filter is run on the new release (``matching_rows`` and up to ``SAMPLE_ROWS`` of the
rows); when it matches none the delivery is skipped, so a farmer's service hears only of alerts covering
its fields. A 2xx answer is delivered; anything else, a timeout or a refused target is retried on
``webhook_retry_seconds``. Redirects are not followed.

SSRF: a target must be http(s) and every address its host resolves to must be public (not private,
loopback, link-local, multicast, reserved or unspecified), checked at subscription and again before each
attempt, unless ``webhook_allow_private_targets`` is set; the attempt then connects to the addresses that
were checked, not to the name again (``api.webhook_target``: no DNS-rebinding window; with private targets
allowed the addresses are resolved unchecked and pinned the same way). HTTPS targets are verified against
certifi's bundle or ``webhook_ca_file``; a refused certificate is logged as such ("the target's TLS
certificate was not accepted (...)") and retried like any other failure. Connections to a target are kept
alive and reused (``PinnedTransport``'s pool), ``webhook_concurrency`` requests at a time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx

from api.engine import QueryEngine, has_geometry
from api.query import RowsQuery, fetch_rows, parse_rows_query
from api.webhook_target import PinnedTransport, public_addresses
from catalog.events import Event
from catalog.models import Release
from catalog.store import Catalog, utc_now
from catalog.webhooks import Attempt, Delivery, Subscription, WebhookStore
from opendata.errors import OpendataError
from opendata.settings import Settings

log = logging.getLogger(__name__)
SAMPLE_ROWS = 100
LEASE_SECONDS = 60.0


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one attempt."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Dispatcher:
    """Claims due deliveries and sends them, ``webhook_concurrency`` at a time."""

    def __init__(self, settings: Settings, catalog: Catalog, engine: QueryEngine) -> None:
        self.settings = settings
        self.catalog = catalog
        self.engine = engine
        self.store = WebhookStore(catalog.database)
        # every connection goes to the addresses resolved (and, unless private targets are allowed, checked)
        self.transport = PinnedTransport(ca_file=settings.webhook_ca_file)
        self.client = httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False,
                                   transport=self.transport, trust_env=False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=settings.webhook_concurrency, thread_name_prefix="webhook")

    def run_due(self, limit: int = 1000) -> int:
        """Send every delivery due now (claimed first, outcomes recorded together); the attempts made."""
        due = self.store.claim_due(time.time(), LEASE_SECONDS, limit)
        if not due:
            return 0
        subscriptions = self.store.subscriptions(sorted({d.subscription for d in due}))
        events = self._events(sorted({d.event for d in due}))
        bodies: dict[tuple[str | None, int], bytes | None] = {}  # one payload per (row filter, event)
        outcomes = list(self._pool.map(lambda d: self._attempt(d, subscriptions, events, bodies), due))
        self.store.finish(outcomes, disable_after=self.settings.webhook_disable_after, at=utc_now())
        return len(due)

    def _events(self, ids: list[int]) -> dict[int, Event]:
        with self.catalog.database.connect() as db:
            rows = db.execute(f"SELECT * FROM events WHERE id IN ({', '.join('?' for _ in ids)})",
                              tuple(ids)).fetchall()
        return {int(r["id"]): Event(**dict(r)) for r in rows}

    def _matches(self, subscription: Subscription, event: Event) -> tuple[int, list[dict[str, Any]]] | None:
        """(matching rows, a sample) of the release for the subscription's row filter; None without one."""
        if not subscription.row_filter or event.type != "release.published":
            return None
        release = self.catalog.release(event.dataset, event.release, published_only=False)
        query = parse_rows_query(release, parse_qsl(subscription.row_filter))
        count = _count(self.engine, release, query)
        if count == 0:
            return 0, []
        page = fetch_rows(self.engine, release, query, limit=SAMPLE_ROWS, position=None, filters_hash="webhook")
        return count, page.rows

    def payload(self, subscription: Subscription, event: Event) -> bytes | None:
        """The delivery's body, or None when the subscription's row filter matches no row of the release."""
        data = event.data()
        matched = self._matches(subscription, event)
        if matched is not None:
            if matched[0] == 0:
                return None
            data["matching_rows"], data["sample"] = matched
        body = {"type": event.type, "timestamp": event.created_at, "data": data}
        return json.dumps(body, separators=(",", ":"), default=str).encode()

    def _attempt(
        self, delivery: Delivery, subscriptions: dict[str, Subscription], events: dict[int, Event],
        bodies: dict[tuple[str | None, int], bytes | None],
    ) -> Attempt:
        attempt = delivery.attempts + 1
        schedule = self.settings.webhook_retry_seconds
        retry_in = schedule[attempt - 1] if attempt <= len(schedule) else None
        subscription = subscriptions.get(delivery.subscription)
        if subscription is None or not subscription.active:
            return Attempt(delivery, ok=False, error="the subscription is disabled, deleted or its API key revoked")
        try:
            key = (subscription.row_filter, delivery.event)
            if key not in bodies:
                bodies[key] = self.payload(subscription, events[delivery.event])
            body = bodies[key]
            if body is None:
                return Attempt(delivery, ok=False, error="the row filter matched no row of the release", skipped=True)
            addresses = public_addresses(subscription.url, self.settings.webhook_allow_private_targets)
            stamp = int(time.time())
            headers = {
                "content-type": "application/json", "webhook-id": delivery.message_id,
                "webhook-timestamp": str(stamp),
                "webhook-signature": sign(subscription.secret, delivery.message_id, stamp, body),
                "user-agent": "opendata-webhooks/1",
            }
            with self.transport.backend.pinned(addresses):
                response = self.client.post(subscription.url, content=body, headers=headers)
        except (httpx.HTTPError, OpendataError) as exc:
            return Attempt(delivery, ok=False, error=_reason(exc), retry_in=retry_in)
        ok = 200 <= response.status_code < 300
        return Attempt(delivery, ok=ok, status=response.status_code,
                       error=None if ok else f"HTTP {response.status_code}", retry_in=None if ok else retry_in)

    def start(self) -> None:
        """Send due deliveries every ``webhook_poll_seconds`` in a background thread."""
        def loop() -> None:
            while not self._stop.wait(self.settings.webhook_poll_seconds):
                try:
                    self.run_due()
                except Exception:  # a database hiccup must not end the loop; the next round retries
                    log.exception("webhook dispatch failed")

        self._thread = threading.Thread(target=loop, name="webhook-dispatcher", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=True)
        self.client.close()


def _reason(exc: BaseException) -> str:
    """What the delivery log says of a failed attempt: the kind of failure, never a traceback or a secret."""
    if isinstance(exc, httpx.TimeoutException):
        return "the target did not answer in time"
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"the target's TLS certificate was not accepted ({cause.verify_message})"
    if isinstance(cause, ssl.SSLError):
        return f"the TLS handshake with the target failed ({cause.reason or type(cause).__name__})"
    if isinstance(exc, httpx.HTTPError):
        return f"could not reach the target ({type(exc).__name__})"
    return str(exc)


def _count(engine: QueryEngine, release: Release, query: RowsQuery) -> int:
    """Rows of the release the filter matches (counted by DuckDB)."""
    conditions, params = query.conditions()
    spatial = has_geometry(release)
    source, source_params = engine.relation(release, spatial)
    sql = f"SELECT count(*) AS n FROM {source} WHERE {' AND '.join(conditions) or 'true'}"
    return int(engine.execute(sql, [*source_params, *params], spatial=spatial).to_pylist()[0]["n"])
