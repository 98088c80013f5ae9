"""The officer's inbox over the API: ``GET /api/v1/approvals`` (an officer's or admin's key).

Every release awaiting a decision, across datasets, oldest first, each with what changed since the
dataset's previous published release (:mod:`catalog.inbox`).
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import CatalogDep, EngineDep, OfficerKey
from api.web.inbox_reader import report_reader
from catalog.inbox import PendingRelease, pending_releases

router = APIRouter(prefix="/api/v1", tags=["privacy review"])


class ApprovalsPublic(BaseModel):
    count: int = Field(description="releases awaiting a decision")
    releases: list[PendingRelease] = Field(description="oldest first")


@router.get("/approvals", name="approvals", response_model=ApprovalsPublic)
def approvals(catalog: CatalogDep, engine: EngineDep, key: OfficerKey) -> ApprovalsPublic:
    """Releases awaiting a privacy officer's decision, oldest first, with their changes since the last release."""
    pending = pending_releases(catalog, report_reader(engine.storage))
    return ApprovalsPublic(count=len(pending), releases=pending)
