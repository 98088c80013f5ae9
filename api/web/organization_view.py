"""An organisation's description, contact and website, from its datasets' job files.

The catalog's organisations table holds a name and a title only (its schema is not extended for this), so
the job-file keys ``organization_description``, ``organization_contact`` and ``organization_website``
are stored with each dataset (its ``metadata`` JSON, as ``organization_profile``); the page shows those of
the organisation's most recently updated dataset that gives them (one indexed query).
"""

from __future__ import annotations

import json

from catalog.models import OrganizationProfile
from catalog.store import Catalog


def organization_profile(catalog: Catalog, name: str) -> OrganizationProfile | None:
    with catalog.database.connect() as db:
        row = db.execute(
            "SELECT metadata FROM datasets WHERE organization = ? AND metadata LIKE ? "
            "ORDER BY updated_at DESC LIMIT 1", (name, '%"organization_profile"%'),
        ).fetchone()
    if row is None:
        return None
    try:
        found = json.loads(row[0]).get("organization_profile")
        return OrganizationProfile(**found) if isinstance(found, dict) else None
    except (ValueError, TypeError):
        return None
