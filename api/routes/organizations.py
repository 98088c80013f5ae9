"""Publishing organisations, with the number of datasets each has published."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter

from api.deps import CatalogDep
from api.schemas import OrganizationPublic, OrganizationsPublic

router = APIRouter(prefix="/api/v1/organizations", tags=["organizations"])


@router.get("", name="list_organizations", response_model=OrganizationsPublic)
def list_organizations(catalog: CatalogDep) -> OrganizationsPublic:
    published = Counter(d.organization for d in catalog.datasets())
    found = [
        OrganizationPublic(name=o.name, title=o.title, datasets=published[o.name])
        for o in catalog.organizations()
    ]
    return OrganizationsPublic(organizations=found, count=len(found))
