"""Webhook subscriptions and their delivery log, in the catalog database (Standard Webhooks).

A subscription belongs to the API key that made it: a target URL, the event types it wants, optionally
one dataset and a row filter (the rows endpoint's query syntax, such as ``contains=31.8,-86.55``), and a
``whsec_`` secret the target verifies signatures with. ``catalog.events.record_event`` queues one
delivery per matching active subscription in the event's own transaction; ``api.webhook_delivery``
sends them, claims each one (so API replicas sharing a PostgreSQL catalog never send one twice), and
records each attempt here: delivered, retried on the schedule, failed after the last retry, or skipped
(its row filter matched none of the release's rows). A subscription with ``disable_after`` failed
attempts in a row is disabled until its owner enables it again.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from catalog.database import CatalogConnection, CatalogDatabase
from opendata.errors import CatalogError

DeliveryState = Literal["pending", "delivered", "failed", "skipped"]



class Subscription(BaseModel):
    id: str
    owner: str
    url: str
    dataset: str | None
    event_types: list[str]
    row_filter: str | None
    secret: str
    active: bool
    failures: int
    disabled_reason: str | None
    created_at: str


class Delivery(BaseModel):
    id: int
    subscription: str
    event: int
    message_id: str
    status: DeliveryState
    attempts: int
    next_attempt_at: float
    last_status: int | None
    last_error: str | None
    created_at: str
    finished_at: str | None


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def queue_deliveries(db: CatalogConnection, event_id: int, kind: str, dataset: str, at: str) -> None:
    """One pending delivery per active subscription that wants this event (inside the event's transaction)."""
    db.execute(
        "INSERT INTO webhook_deliveries(subscription, event, message_id, status, attempts, next_attempt_at, "
        "created_at) SELECT id, ?, 'msg_' || ? || '_' || id, 'pending', 0, ?, ? FROM webhook_subscriptions "
        "WHERE active = 1 AND (dataset IS NULL OR dataset = ?) AND event_types LIKE ?",
        (event_id, str(event_id), time.time(), at, dataset, f'%"{kind}"%'),
    )


def _subscription(row: Any) -> Subscription:
    values = dict(row)
    values["event_types"] = json.loads(values["event_types"])
    values["active"] = bool(values["active"])
    return Subscription(**values)


class WebhookStore:
    def __init__(self, database: CatalogDatabase) -> None:
        self.database = database

    def create(
        self, owner: str, url: str, event_types: Sequence[str], dataset: str | None, row_filter: str | None, at: str
    ) -> Subscription:
        subscription = Subscription(
            id="sub_" + uuid.uuid4().hex[:20], owner=owner, url=url, dataset=dataset, event_types=list(event_types),
            row_filter=row_filter, secret=new_secret(), active=True, failures=0, disabled_reason=None, created_at=at,
        )
        row = subscription.model_dump()
        row["event_types"] = json.dumps(row["event_types"])
        row["active"] = 1
        with self.database.transaction() as db:
            names, values = ", ".join(row), ", ".join(":" + k for k in row)
            db.execute(f"INSERT INTO webhook_subscriptions({names}) VALUES ({values})", row)
        return subscription

    def get(self, subscription_id: str, owner: str | None = None) -> Subscription:
        with self.database.connect() as db:
            row = db.execute("SELECT * FROM webhook_subscriptions WHERE id = ?", (subscription_id,)).fetchone()
        if row is None or (owner is not None and row["owner"] != owner):
            raise CatalogError(f"there is no subscription '{subscription_id}' of this API key")
        return _subscription(row)

    def owned(self, owner: str) -> list[Subscription]:
        with self.database.connect() as db:
            rows = db.execute("SELECT * FROM webhook_subscriptions WHERE owner = ? ORDER BY created_at, id",
                              (owner,)).fetchall()
        return [_subscription(r) for r in rows]

    def delete(self, subscription_id: str, owner: str) -> None:
        self.get(subscription_id, owner)
        with self.database.transaction() as db:
            db.execute("DELETE FROM webhook_deliveries WHERE subscription = ?", (subscription_id,))
            db.execute("DELETE FROM webhook_subscriptions WHERE id = ?", (subscription_id,))

    def enable(self, subscription_id: str, owner: str) -> Subscription:
        self.get(subscription_id, owner)
        with self.database.transaction() as db:
            db.execute("UPDATE webhook_subscriptions SET active = 1, failures = 0, disabled_reason = NULL WHERE id = ?",
                       (subscription_id,))
        return self.get(subscription_id, owner)

    def deliveries(self, subscription_id: str, limit: int = 100) -> list[Delivery]:
        with self.database.connect() as db:
            rows = db.execute("SELECT * FROM webhook_deliveries WHERE subscription = ? ORDER BY id DESC LIMIT ?",
                              (subscription_id, limit)).fetchall()
        return [Delivery(**{k: v for k, v in dict(r).items() if k != "claimed_until"}) for r in rows]

    def claim_due(self, now: float, lease_seconds: float, limit: int) -> list[Delivery]:
        """Pending deliveries due by ``now``, claimed for ``lease_seconds`` in one statement (a replica that
        races for the same rows waits on their locks, then finds them claimed and skips them)."""
        free = "status = 'pending' AND (claimed_until IS NULL OR claimed_until < ?)"
        with self.database.transaction() as db:
            rows = db.execute(
                f"UPDATE webhook_deliveries SET claimed_until = ? WHERE {free} AND id IN (SELECT id FROM "
                f"webhook_deliveries WHERE {free} AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?) "
                "RETURNING *",
                (now + lease_seconds, now, now, now, limit),
            ).fetchall()
        found = [Delivery(**{k: v for k, v in dict(r).items() if k != "claimed_until"}) for r in rows]
        return sorted(found, key=lambda d: d.id)

    def subscriptions(self, ids: Sequence[str]) -> dict[str, Subscription]:
        if not ids:
            return {}
        with self.database.connect() as db:
            # A revoked owner key ends its subscriptions' deliveries (an officer who left hears no more).
            rows = db.execute(f"SELECT * FROM webhook_subscriptions s WHERE id IN ({', '.join('?' for _ in ids)}) "
                              "AND NOT EXISTS (SELECT 1 FROM api_keys k WHERE k.id = s.owner "
                              "AND k.revoked_at IS NOT NULL)", tuple(ids)).fetchall()
        return {str(r["id"]): _subscription(r) for r in rows}

    def finish(self, outcomes: Sequence[Attempt], *, disable_after: int, at: str) -> None:
        """Record attempts, all in one transaction: delivered (or skipped), retried later, or failed for good."""
        now = time.time()
        with self.database.transaction() as db:
            for o in outcomes:
                delivery = o.delivery
                attempts = delivery.attempts + (0 if o.skipped else 1)
                if o.ok or o.skipped:
                    db.execute(
                        "UPDATE webhook_deliveries SET status = ?, attempts = ?, last_status = ?, last_error = ?, "
                        "claimed_until = NULL, finished_at = ? WHERE id = ?",
                        ("skipped" if o.skipped else "delivered", attempts, o.status, o.error, at, delivery.id),
                    )
                    if o.ok:
                        db.execute("UPDATE webhook_subscriptions SET failures = 0 WHERE id = ?",
                                   (delivery.subscription,))
                    continue
                final = o.retry_in is None
                db.execute(
                    "UPDATE webhook_deliveries SET status = ?, attempts = ?, last_status = ?, last_error = ?, "
                    "claimed_until = NULL, next_attempt_at = ?, finished_at = ? WHERE id = ?",
                    ("failed" if final else "pending", attempts, o.status, o.error, now + (o.retry_in or 0),
                     at if final else None, delivery.id),
                )
                db.execute("UPDATE webhook_subscriptions SET failures = failures + 1 WHERE id = ?",
                           (delivery.subscription,))
                db.execute(
                    "UPDATE webhook_subscriptions SET active = 0, disabled_reason = ? WHERE id = ? AND failures >= ? "
                    "AND active = 1",
                    (f"disabled after {disable_after} failed deliveries in a row (last: {o.error or o.status})",
                     delivery.subscription, disable_after),
                )


@dataclass(frozen=True)
class Attempt:
    """The outcome of one delivery attempt (``retry_in``: seconds to the next try, None when none is left)."""

    delivery: Delivery
    ok: bool
    status: int | None = None
    error: str | None = None
    retry_in: float | None = None
    skipped: bool = False
