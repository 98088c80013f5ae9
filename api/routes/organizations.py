"""Publishing organisations, with the number of datasets each has published."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CatalogDep
from api.schemas import OrganizationPublic, OrganizationsPublic

router = APIRouter(prefix="/api/v1/organizations", tags=["organizations"])


@router.get("", name="list_organizations", response_model=OrganizationsPublic)
def list_organizations(catalog: CatalogDep) -> OrganizationsPublic:
    published = catalog.published_counts()
    found = [
        OrganizationPublic(name=o.name, title=o.title, datasets=published.get(o.name, 0))
        for o in catalog.organizations()
    ]
    return OrganizationsPublic(organizations=found, count=len(found), total=len(found))
