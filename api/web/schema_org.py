"""schema.org ``Dataset`` JSON-LD for a dataset page (what search engines' dataset indexes read)."""

from __future__ import annotations

from typing import Any

from catalog.dcat import Coverage, licence_uri
from catalog.models import Dataset, Release


def schema_org_dataset(
    dataset: Dataset,
    release: Release,
    organization_title: str,
    page_url: str,
    downloads: list[tuple[str, str, str]],
    coverage: Coverage | None,
    catalog_url: str,
) -> dict[str, Any]:
    """``downloads``: (name, encoding format, URL) of each file a person can download."""
    organization = {"@type": "GovernmentOrganization", "name": organization_title or dataset.organization}
    document: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": page_url,
        "name": dataset.title,
        "description": dataset.description or dataset.title,
        "url": page_url,
        "identifier": f"{dataset.name}/{release.number}",
        "version": str(release.number),
        "keywords": list(dataset.tags),
        "license": str(licence_uri(dataset.license)),
        "isAccessibleForFree": True,
        "creator": organization,
        "publisher": organization,
        "dateCreated": release.created_at,
        "datePublished": release.published_at or release.created_at,
        "variableMeasured": [
            {"@type": "PropertyValue", "name": str(f.get("name")), "description": str(f.get("description", ""))}
            for f in release.table_schema.get("fields", [])
        ],
        "distribution": [
            {"@type": "DataDownload", "name": name, "encodingFormat": media, "contentUrl": url}
            for name, media, url in downloads
        ],
        "includedInDataCatalog": {"@type": "DataCatalog", "url": catalog_url},
    }
    declared = dataset.temporal_coverage
    if declared is not None and (declared.start or declared.end):  # ISO 8601 interval, ".." for an open end
        document["temporalCoverage"] = f"{declared.start or '..'}/{declared.end or '..'}"
    elif coverage is not None:
        document["temporalCoverage"] = f"{coverage.start}/{coverage.end}"
    if dataset.spatial:
        places = [{"@type": "Place", "sameAs": uri} for uri in dataset.spatial]
        document["spatialCoverage"] = places[0] if len(places) == 1 else places
    if dataset.contact_point is not None:
        contact = dataset.contact_point
        document["publisher"] = {**organization, "contactPoint": {
            "@type": "ContactPoint", "name": contact.name, "contactType": "open data",
            **({"email": contact.email} if contact.email else {}), **({"url": contact.url} if contact.url else {}),
        }}
    if dataset.homepage and dataset.homepage.lower().startswith(("http://", "https://")):
        document["sameAs"] = dataset.homepage
    return document
