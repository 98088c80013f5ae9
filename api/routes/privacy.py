"""A privacy officer's decisions over the API: approve or reject a release that waits for approval.

Both need an officer's (or admin's) API key; the decision is kept with the key's name and role.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.deps import CatalogDep, OfficerKey
from catalog.approvals import ApprovalDecision, Approvals, Decision
from catalog.store import Catalog
from opendata.errors import ActionConflict, ApprovalError

router = APIRouter(prefix="/api/v1/datasets/{name}/releases/{number}", tags=["privacy review"])

Number = Annotated[int, Path(ge=1, le=2**31 - 1, description="release number")]


class DecisionRequest(BaseModel):
    reason: str = Field(min_length=3, max_length=4000, description="why: kept with the decision")


class DecisionsPublic(BaseModel):
    dataset: str
    number: int
    state: str
    decisions: list[ApprovalDecision]


def _decide(catalog: Catalog, key: OfficerKey, name: str, number: int, decision: Decision,
            body: DecisionRequest) -> ApprovalDecision:
    try:
        return Approvals(catalog).decide(name, number, decision, by=key.name, role=key.role,
                                         reason=body.reason, via="api")
    except ApprovalError as exc:
        raise ActionConflict(str(exc)) from None


@router.post("/approve", name="approve_release", response_model=ApprovalDecision)
def approve_release(
    name: str, number: Number, body: DecisionRequest, catalog: CatalogDep, key: OfficerKey
) -> ApprovalDecision:
    """Publish a release that waits for a privacy officer (409 if it does not wait)."""
    return _decide(catalog, key, name, number, "approved", body)


@router.post("/reject", name="reject_release", response_model=ApprovalDecision)
def reject_release(
    name: str, number: Number, body: DecisionRequest, catalog: CatalogDep, key: OfficerKey
) -> ApprovalDecision:
    """Refuse a release that waits for a privacy officer: it is never published (409 if it does not wait)."""
    return _decide(catalog, key, name, number, "rejected", body)


@router.get("/decisions", name="release_decisions", response_model=DecisionsPublic)
def release_decisions(name: str, number: Number, catalog: CatalogDep, key: OfficerKey) -> DecisionsPublic:
    """Every decision taken on a release: who, with which role, when and why."""
    release = catalog.release(name, number, published_only=False)
    return DecisionsPublic(dataset=name, number=number, state=release.state,
                           decisions=Approvals(catalog).history(name, number))
