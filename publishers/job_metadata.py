"""Job-file keys that describe a dataset for harvesters (DCAT-AP's recommended properties), and link safety.

    homepage: https://example.gov/311                 # only http(s) URLs: a link on the dataset page
    contact_point: {name: 311 Open Data Team, email: opendata@example.gov, url: https://example.gov/contact}
    spatial: [http://sws.geonames.org/5128581/]       # URIs of the places covered (dct:spatial)
    temporal_coverage: {start: 2024-01-01, end: 2024-12-31}   # either end may be left out
    theme: [GOVE, SOCI]                               # EU data themes (dcat:theme)

Every link a job file gives must be an absolute ``http``/``https`` URL: a ``javascript:`` or ``data:``
homepage would run script on the dataset page.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from catalog.models import OrganizationProfile

#: The EU Publications Office's data theme authority (http://publications.europa.eu/resource/authority/data-theme).
EU_THEMES = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}
_EMAIL = re.compile(r"[^@\s:/]+@[^@\s:/]+\.[^@\s:/]+")


def http_url(value: str, key: str) -> str:
    """``value`` when it is an absolute http(s) URL with a host, else a ValueError naming ``key``."""
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c in value for c in "\r\n\t "):
        raise ValueError(f"{key} must be an http:// or https:// URL, not {value[:80]!r}")
    return value.strip()


def contact_address(value: str, key: str) -> str:
    """An e-mail address (``mailto:`` dropped) or an absolute http(s) URL, else a ValueError naming ``key``."""
    text = value.strip().removeprefix("mailto:")
    if _EMAIL.fullmatch(text):
        return text
    if text.lower().startswith(("http://", "https://")):
        return http_url(text, key)
    raise ValueError(f"{key} must be an e-mail address or an http(s) URL, not {value[:80]!r}")


class ContactPointSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    email: str | None = None
    url: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.fullmatch(value.removeprefix("mailto:")):
            raise ValueError(f"contact_point.email must be an e-mail address such as opendata@example.gov, "
                             f"not {value[:80]!r}")
        return value.removeprefix("mailto:") if value else value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value, "contact_point.url")

    @model_validator(mode="after")
    def _reachable(self) -> ContactPointSpec:
        if not self.email and not self.url:
            raise ValueError("contact_point needs an email or a url (DCAT-AP: a way to reach the contact)")
        return self


class TemporalCoverageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TemporalCoverageSpec:
        if self.start is None and self.end is None:
            raise ValueError("temporal_coverage needs a start or an end date (YYYY-MM-DD)")
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"temporal_coverage ends ({self.end}) before it starts ({self.start})")
        return self


def check_themes(values: list[str]) -> list[str]:
    codes = [v.strip().upper() for v in values]
    unknown = [v for v in codes if v not in EU_THEMES]
    if unknown:
        raise ValueError(f"theme {', '.join(unknown)} is not an EU data theme; use one of {', '.join(EU_THEMES)}")
    return codes


def organization_profile(job: Any) -> OrganizationProfile | None:
    """The organisation's description, contact and website a job file gives (None when it gives none)."""
    if not (job.organization_description or job.organization_contact or job.organization_website):
        return None
    return OrganizationProfile(description=(job.organization_description or "").strip(),
                               contact=job.organization_contact, website=job.organization_website)
