"""Change events: what a client hears of new and withdrawn releases, kept in the catalog database.

An event is written in the same transaction that makes a release published (``Catalog.record_release``,
``Catalog.set_release_state``) or takes it back (``Catalog.withdraw_release``), so an event exists exactly
when its change does. Ids increase; a client that saw id N asks for the events after N (the SSE
``Last-Event-ID``), on whichever API replica it reaches, since all read the same catalog (SQLite file or
PostgreSQL). The same transaction queues one webhook delivery per matching subscription
(``catalog.webhooks``), so a notification can not be lost between the change and its fan-out.

    release.published   a release became readable (published at once, or approved)
    release.withdrawn   a published release was withdrawn (``opendata release withdraw``)
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel

from catalog.database import CatalogConnection, CatalogDatabase

EventType = Literal["release.published", "release.withdrawn"]
EVENT_TYPES: tuple[str, ...] = ("release.published", "release.withdrawn")



class Event(BaseModel):
    id: int
    type: str
    dataset: str
    release: int
    rows: int
    created_at: str

    def data(self) -> dict[str, Any]:
        """The event's JSON body (SSE ``data``, webhook payload ``data``)."""
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
        """Events with an id above ``last_id``, oldest first, optionally of one dataset and some types."""
        query = "SELECT * FROM events WHERE id > ?"
        params: list[Any] = [last_id]
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
        """The newest events, newest first (Atom feeds)."""
        query = "SELECT * FROM events"
        params: list[Any] = []
        if dataset:
            query += " WHERE dataset = ?"
            params.append(dataset)
        with self.database.connect() as db:
            rows = db.execute(query + " ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
        return [Event(**dict(r)) for r in rows]

    def last_id(self) -> int:
        with self.database.connect() as db:
            row = db.execute("SELECT max(id) FROM events").fetchone()
        return int(row[0] or 0)


def event_json(event: Event) -> str:
    return json.dumps({"id": event.id, "type": event.type, **event.data()}, separators=(",", ":"))
