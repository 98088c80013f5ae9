"""A privacy officer's decisions on releases that wait for approval, kept in the catalog database.

Every decision is a row of ``approvals``: which release, approved or rejected, who (the officer's name
or API key name), with which role, through which door (cli, api, or web: the signed-in review page), when
and why. Nothing is updated or deleted. Approving records the decision and publishes the release in one
transaction; rejecting records it and marks the release rejected, so it is never served.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from catalog.events import record_event
from catalog.search_index import refresh_documents
from catalog.store import Catalog, utc_now
from opendata.errors import ApprovalError, CatalogError

Decision = Literal["approved", "rejected"]
Via = Literal["cli", "api", "web"]

MIN_REASON = 3


class ApprovalDecision(BaseModel):
    """One decision on one release."""

    id: int
    dataset: str
    number: int
    decision: Decision
    decided_by: str = Field(description="the officer: a person's name (CLI) or the API key's name")
    role: str = Field(description="role of the one who decided (officer, admin)")
    via: Via
    reason: str
    decided_at: str


class Approvals:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def decide(
        self, dataset: str, number: int, decision: Decision, *, by: str, role: str, reason: str,
        via: Via,
    ) -> ApprovalDecision:
        """Record a decision and move the release out of awaiting-approval, atomically."""
        reason = reason.strip()
        if len(reason) < MIN_REASON:
            raise ApprovalError(f"give the reason for this decision (--reason '...'); got {reason!r}")
        if not by.strip():
            raise ApprovalError("a decision needs the name of who takes it")
        decided_at = utc_now()
        with self.catalog.transaction() as db:
            row = db.execute(
                "SELECT state FROM releases WHERE dataset = ? AND number = ?", (dataset, number)
            ).fetchone()
            if row is None:
                raise CatalogError(f"dataset '{dataset}' has no release {number}")
            if row["state"] != "awaiting-approval":
                raise ApprovalError(
                    f"release {number} of '{dataset}' is {row['state']}, not awaiting approval; "
                    "only a release that waits for a privacy officer can be approved or rejected"
                )
            inserted = db.execute(
                "INSERT INTO approvals(dataset, number, decision, decided_by, role, via, reason, decided_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (dataset, number, decision, by.strip(), role, via, reason, decided_at),
            ).fetchone()
            if decision == "approved":
                db.execute(
                    "UPDATE releases SET state = 'published', published_at = ? WHERE dataset = ? AND number = ?",
                    (decided_at, dataset, number),
                )
                db.execute(
                    "UPDATE runs SET state = 'succeeded' WHERE dataset = ? AND release = ? "
                    "AND state = 'awaiting-approval'", (dataset, number),
                )
                rows = db.execute("SELECT rows FROM releases WHERE dataset = ? AND number = ?",
                                  (dataset, number)).fetchone()
                record_event(db, "release.published", dataset, number, int(rows[0]), decided_at)
            else:
                db.execute(
                    "UPDATE releases SET state = 'rejected' WHERE dataset = ? AND number = ?", (dataset, number)
                )
                db.execute(
                    "UPDATE runs SET state = 'rejected', error = ? WHERE dataset = ? AND release = ? "
                    "AND state = 'awaiting-approval'", (f"rejected by {by.strip()}: {reason}", dataset, number),
                )
            refresh_documents(db, [dataset])  # an approved release may make the dataset public in search
            decision_id = int(inserted[0])
        return ApprovalDecision(
            id=decision_id, dataset=dataset, number=number, decision=decision, decided_by=by.strip(), role=role,
            via=via, reason=reason, decided_at=decided_at,
        )

    def history(self, dataset: str, number: int | None = None) -> list[ApprovalDecision]:
        query = "SELECT * FROM approvals WHERE dataset = ?"
        params: list[str | int] = [dataset]
        if number is not None:
            query += " AND number = ?"
            params.append(number)
        with self.catalog._connect() as db:
            rows = db.execute(query + " ORDER BY id", params).fetchall()
        return [ApprovalDecision(**dict(r)) for r in rows]
