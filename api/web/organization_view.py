"""An organisation's description, contact and website, from its datasets' job files.

The job-file keys ``organization_description``, ``organization_contact`` and ``organization_website`` are
stored with each dataset (its ``metadata`` JSON, as ``organization_profile``) and, since migration 0002,
again in the ``datasets.organization_profile`` column, written with the dataset's row, under a partial index
by (organisation, updated_at) over the datasets that give one. The page shows the profile of the
organisation's most recently updated dataset that gives one: one indexed lookup, whatever the number of
the organisation's datasets.
"""

from __future__ import annotations

from pydantic import ValidationError

from catalog.models import OrganizationProfile
from catalog.store import Catalog


def organization_profile(catalog: Catalog, name: str) -> OrganizationProfile | None:
    with catalog.database.connect() as db:
        row = db.execute(
            "SELECT organization_profile FROM datasets WHERE organization = ? AND organization_profile IS NOT NULL "
            "ORDER BY updated_at DESC LIMIT 1", (name,),
        ).fetchone()
    if row is None:
        return None
    try:
        return OrganizationProfile.model_validate_json(row[0])
    except ValidationError:
        return None
