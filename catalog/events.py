"""Change events: what a client hears of new and withdrawn releases, kept in the catalog database.

An event is written in the same transaction that makes a release published (``Catalog.record_release``,
``Catalog.set_release_state``) or takes it back (``Catalog.withdraw_release``), so an event exists exactly
when its change does. Ids increase; a client that saw id N asks for the events after N (the SSE
``Last-Event-ID``), on whichever API replica it reaches, since all read the same catalog (SQLite file or
PostgreSQL). The same transaction queues one webhook delivery per matching subscription
(``catalog.webhooks``), so a notification can not be lost between the change and its fan-out.

    release.published           a release became readable (published at once, or approved)
    release.withdrawn           a published release was withdrawn (``opendata release withdraw``)
    release.awaiting_approval   a release was recorded waiting for a privacy officer's decision (officers
                                only: delivered to webhooks an officer or admin key subscribed, never on
                                the public event stream; :data:`EVENT_TYPES` is what that serves)

An event carries counts and links only (dataset, release number, rows, when), never a value of the data.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel

from catalog.database import CatalogConnection, CatalogDatabase

EventType = Literal["release.published", "release.withdrawn", "release.awaiting_approval"]
#: what anyone may hear of (the event stream, any key's subscriptions)
EVENT_TYPES: tuple[str, ...] = ("release.published", "release.withdrawn")
#: what only officers (and admins) may subscribe to; never served by ``GET /api/v1/events``
OFFICER_EVENT_TYPES: tuple[str, ...] = ("release.awaiting_approval",)


class Event(BaseModel):
    id: int
    type: str
    dataset: str
    release: int
    rows: int
    created_at: str

    def data(self) -> dict[str, Any]:
        """The event's JSON body (SSE ``data``, webhook payload ``data``)."""
        if self.type == "release.awaiting_approval":  # not readable yet: links to where officers decide
            return {
                "dataset": self.dataset, "release": self.release, "rows": self.rows, "created_at": self.created_at,
                "url": f"/datasets/{self.dataset}/releases/{self.release}/privacy",
                "approvals_url": "/approvals", "api_url": "/api/v1/approvals",
            }
        return {
            "dataset": self.dataset, "release": self.release, "rows": self.rows, "created_at": self.created_at,
            "url": f"/api/v1/datasets/{self.dataset}/releases/{self.release}",
        }


def record_event(db: CatalogConnection, kind: EventType, dataset: str, release: int, rows: int, at: str) -> int:
    """Write one event inside the caller's transaction (and queue its webhook deliveries); its id."""
    from catalog.webhooks import queue_deliveries  # webhooks reads events: imported late, no cycle

    row = db.execute(
        "INSERT INTO events(type, dataset, release, rows, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        (kind, dataset, release, rows, at),
    ).fetchone()
    event_id = int(row[0])
    queue_deliveries(db, event_id, kind, dataset, at)
    return event_id


class EventLog:
    """Reads the events of a catalog database."""

    def __init__(self, database: CatalogDatabase) -> None:
        self.database = database

    def after(
        self, last_id: int, *, dataset: str | None = None, types: list[str] | None = None, limit: int = 500
    ) -> list[Event]:
        """Events with an id above ``last_id``, oldest first, optionally of one dataset and some types (of
        :data:`EVENT_TYPES` when ``types`` is None: officers' events are read by id, for webhooks)."""
        query = "SELECT * FROM events WHERE id > ?"
        params: list[Any] = [last_id]
        types = types or list(EVENT_TYPES)
        if dataset:
            query += " AND dataset = ?"
            params.append(dataset)
        if types:
            query += f" AND type IN ({', '.join('?' for _ in types)})"
            params.extend(types)
        with self.database.connect() as db:
            rows = db.execute(query + " ORDER BY id LIMIT ?", (*params, limit)).fetchall()
        return [Event(**dict(r)) for r in rows]

    def latest(self, *, dataset: str | None = None, limit: int = 50) -> list[Event]:
        """The newest public events, newest first (Atom feeds)."""
        query = f"SELECT * FROM events WHERE type IN ({', '.join('?' for _ in EVENT_TYPES)})"
        params: list[Any] = list(EVENT_TYPES)
        if dataset:
            query += " AND dataset = ?"
            params.append(dataset)
        with self.database.connect() as db:
            rows = db.execute(query + " ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
        return [Event(**dict(r)) for r in rows]

    def last_id(self) -> int:
        """The id of the newest public event (where a stream without a position starts)."""
        with self.database.connect() as db:
            row = db.execute(  # newest first by the primary key: stops at the first public event
                f"SELECT id FROM events WHERE type IN ({', '.join('?' for _ in EVENT_TYPES)}) "
                "ORDER BY id DESC LIMIT 1", EVENT_TYPES,
            ).fetchone()
        return int(row[0]) if row is not None else 0


def event_json(event: Event) -> str:
    return json.dumps({"id": event.id, "type": event.type, **event.data()}, separators=(",", ":"))
