"""Publishing organisations, with the number of datasets each has published, and one organisation's profile
(description, contact and website from its datasets' job files; see ``api.web.organization_view``)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import CatalogDep, LinksDep
from api.schemas import OrganizationProfilePublic, OrganizationPublic, OrganizationsPublic
from api.web.organization_view import organization_profile
from catalog.models import OrganizationProfile
from catalog.store import Catalog
from opendata.errors import CatalogError

router = APIRouter(prefix="/api/v1/organizations", tags=["organizations"])


@router.get("", name="list_organizations", response_model=OrganizationsPublic)
def list_organizations(catalog: CatalogDep) -> OrganizationsPublic:
    published = catalog.published_counts()
    found = [
        OrganizationPublic(name=o.name, title=o.title, datasets=published.get(o.name, 0))
        for o in catalog.organizations()
    ]
    return OrganizationsPublic(organizations=found, count=len(found), total=len(found))


def _profile(catalog: Catalog, name: str) -> tuple[str, OrganizationProfile, int]:
    found = catalog.organization(name)
    if found is None:
        raise CatalogError(f"there is no organisation '{name}': GET /api/v1/organizations lists them")
    profile = organization_profile(catalog, name) or OrganizationProfile()
    return found.title, profile, catalog.published_counts().get(name, 0)


@router.get("/{name}", name="get_organization", response_model=OrganizationProfilePublic,
            responses={404: {"description": "no organisation of that name"}},
            description="One organisation: title, description, contact, website and how many datasets it has "
            "published.")
async def get_organization(name: str, catalog: CatalogDep, links: LinksDep) -> OrganizationProfilePublic:
    title, profile, count = await run_in_threadpool(_profile, catalog, name)
    return OrganizationProfilePublic(
        name=name, title=title, description=profile.description, contact=profile.contact,
        website=profile.website, datasets=count, url=links.url("web_organization", name=name),
        datasets_url=f"{links.url('list_datasets')}?organization={name}",
    )
