"""Catalog records in CKAN's shapes: package (a dataset), resource (a published release), organization.

A resource id is ``<dataset>@<release>``, which is also the table name in ``datastore_search_sql``.
"""

from __future__ import annotations

from typing import Any

from catalog.models import Dataset, Organization, OrganizationProfile, Release

LICENSES = {
    "CC-BY-4.0": "Creative Commons Attribution 4.0",
    "CC0-1.0": "Creative Commons CCZero",
    "ODC-BY-1.0": "Open Data Commons Attribution License",
    "ODbL-1.0": "Open Data Commons Open Database License (ODbL)",
    "PDDL-1.0": "Open Data Commons Public Domain Dedication and License (PDDL)",
    "OGL-UK-3.0": "Open Government Licence v3.0",
}


def resource_id(release: Release) -> str:
    return f"{release.dataset}@{release.number}"


def organization_dict(
    organization: Organization, base_url: str, package_count: int, profile: OrganizationProfile | None = None,
) -> dict[str, Any]:
    """CKAN's organization; with the organisation's ``profile``, its description, and its website and contact
    as ``extras`` (CKAN keeps fields it has no column for there)."""
    found = {
        "id": organization.name, "name": organization.name, "title": organization.title,
        "display_name": organization.title, "description": profile.description if profile else "",
        "type": "organization", "is_organization": True,
        "state": "active", "approval_status": "approved", "image_url": "", "package_count": package_count,
        "created": None,
        "url": f"{base_url}/api/v1/datasets?organization={organization.name}",
    }
    if profile is not None:
        found["extras"] = [{"key": key, "value": value} for key, value in
                           (("website", profile.website), ("contact", profile.contact)) if value]
    return found


def resource_dict(release: Release, base_url: str, position: int) -> dict[str, Any]:
    data = f"{base_url}/api/v1/datasets/{release.dataset}/releases/{release.number}/data.parquet"
    return {
        "id": resource_id(release), "package_id": release.dataset, "name": f"Release {release.number}",
        "description": f"Release {release.number} of {release.dataset}: {release.rows} rows. Privacy report: "
        f"{base_url}/api/v1/datasets/{release.dataset}/releases/{release.number}/privacy-report",
        "format": "Parquet", "mimetype": "application/vnd.apache.parquet", "url": data, "url_type": None,
        "hash": release.files.get("data.parquet", ""), "size": None, "state": "active", "position": position,
        "created": release.created_at, "last_modified": release.published_at, "datastore_active": True,
        "release": release.number, "rows": release.rows,
    }


def package_dict(
    dataset: Dataset, releases: list[Release], organization: Organization | None, base_url: str
) -> dict[str, Any]:
    newest_first = list(reversed(releases))
    org = organization or Organization(name=dataset.organization, title=dataset.organization)
    return {
        "id": dataset.name, "name": dataset.name, "title": dataset.title, "notes": dataset.description,
        "type": "dataset", "state": "active", "private": False, "isopen": True,
        "license_id": dataset.license, "license_title": LICENSES.get(dataset.license, dataset.license),
        "owner_org": dataset.organization,
        "organization": organization_dict(org, base_url, 0) | {"package_count": None},
        "tags": [{"name": t, "display_name": t, "state": "active"} for t in dataset.tags],
        "num_tags": len(dataset.tags), "groups": [],
        "resources": [resource_dict(r, base_url, i) for i, r in enumerate(newest_first)],
        "num_resources": len(newest_first),
        "metadata_created": releases[0].created_at if releases else dataset.updated_at,
        "metadata_modified": dataset.updated_at,
        "url": dataset.homepage or "", "version": str(dataset.latest_release or ""),
        "author": org.title, "maintainer": org.title,
        "extras": [{"key": "frequency", "value": dataset.frequency or ""},
                   {"key": "api_url", "value": f"{base_url}/api/v1/datasets/{dataset.name}"}],
    }
