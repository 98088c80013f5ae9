"""Portal vocabularies to our job keys: licences to SPDX ids, update frequencies to cron schedules."""

from __future__ import annotations

import re

from catalog.dcat import EU_FREQUENCY, EU_LICENCE, EU_LICENCES

#: CKAN's default licence ids (ckan/model/license.py) -> SPDX.
CKAN_LICENCES = {
    "cc-by": "CC-BY-4.0", "cc-by-sa": "CC-BY-SA-4.0", "cc-zero": "CC0-1.0", "cc-nc": "CC-BY-NC-4.0",
    "odc-by": "ODC-By-1.0", "odc-odbl": "ODbL-1.0", "odc-pddl": "PDDL-1.0", "gfdl": "GFDL-1.3-or-later",
    "uk-ogl": "OGL-UK-3.0", "other-pd": "LicenseRef-other-pd", "other-open": "LicenseRef-other-open",
    "other-at": "LicenseRef-other-at", "other-nc": "LicenseRef-other-nc", "other-closed": "LicenseRef-other-closed",
    "notspecified": "LicenseRef-not-specified",
}
UNSPECIFIED = "LicenseRef-not-specified"
_EU_TO_SPDX = {code: spdx for spdx, code in EU_LICENCES.items()}

#: EU frequency authority code -> a cron schedule that :func:`catalog.dcat.cron_frequency` maps back to it.
FREQUENCY_CRON = {
    "1MIN": "* * * * *", "5MIN": "*/5 * * * *", "10MIN": "*/10 * * * *", "15MIN": "*/15 * * * *",
    "30MIN": "*/30 * * * *", "HOURLY": "0 * * * *", "BIHOURLY": "0 */2 * * *", "TRIHOURLY": "0 */3 * * *",
    "12HRS": "0 */12 * * *", "DAILY": "0 3 * * *", "DAILY_2": "0 3,15 * * *", "WEEKLY": "0 3 * * 1",
    "WEEKLY_2": "0 3 * * 1,4", "WEEKLY_3": "0 3 * * 1,3,5", "MONTHLY": "0 3 1 * *", "BIMONTHLY": "0 3 1 */2 *",
    "QUARTERLY": "0 3 1 */3 *", "ANNUAL_2": "0 3 1 */6 *", "ANNUAL": "0 3 1 1 *",
}
_WORDS = {"daily": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY", "quarterly": "QUARTERLY",
          "annual": "ANNUAL", "annually": "ANNUAL", "yearly": "ANNUAL", "hourly": "HOURLY",
          "biweekly": "WEEKLY_2", "semiannual": "ANNUAL_2", "continuous": "1MIN", "realtime": "1MIN"}
_ISO = {"PT1M": "1MIN", "PT5M": "5MIN", "PT10M": "10MIN", "PT15M": "15MIN", "PT30M": "30MIN", "PT1H": "HOURLY",
        "PT2H": "BIHOURLY", "PT3H": "TRIHOURLY", "PT12H": "12HRS", "P1D": "DAILY", "P1W": "WEEKLY", "P7D": "WEEKLY",
        "P1M": "MONTHLY", "P2M": "BIMONTHLY", "P3M": "QUARTERLY", "P6M": "ANNUAL_2", "P1Y": "ANNUAL"}


def spdx_licence(value: str | None, label: str | None = None) -> str:
    """An SPDX id for a CKAN licence id, an SPDX or EU licence URI, or an SPDX id as it is."""
    if not value:
        return spdx_licence(label) if label else UNSPECIFIED
    text = value.strip()
    if text.startswith(EU_LICENCE):
        code = text.removeprefix(EU_LICENCE)
        return _EU_TO_SPDX.get(code, f"LicenseRef-{code}")
    for prefix in ("https://spdx.org/licenses/", "http://spdx.org/licenses/"):
        if text.startswith(prefix):
            return text.removeprefix(prefix).removesuffix(".html").removesuffix(".json")
    if text.lower() in CKAN_LICENCES:
        return CKAN_LICENCES[text.lower()]
    if text.startswith(("http://", "https://")):
        return spdx_licence(label) if label else "LicenseRef-" + re.sub(r"[^A-Za-z0-9.-]+", "-", text)[-60:]
    return text


def frequency_code(value: str | None) -> str | None:
    """The EU frequency code of an EU URI, an ISO 8601 repeat (R/P1D), a word (weekly) or a code."""
    if not value:
        return None
    text = value.strip()
    if text.startswith(EU_FREQUENCY):
        text = text.removeprefix(EU_FREQUENCY)
    if text.upper() in FREQUENCY_CRON:
        return text.upper()
    if text.upper().removeprefix("R/") in _ISO:
        return _ISO[text.upper().removeprefix("R/")]
    return _WORDS.get(text.lower().replace("-", "").replace(" ", ""))


def cron_for(value: str | None) -> str | None:
    code = frequency_code(value)
    return FREQUENCY_CRON.get(code) if code else None


def slug(text: str, limit: int = 80) -> str:
    value = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")
    return value or "dataset"
