"""Red-flag results as a published release keeps them (``red-flags.json``), filtered for the API and pages."""

from __future__ import annotations

from typing import Any

from opendata.errors import QueryError
from procurement.indicators import GROUPS
from procurement.indicators.proact import PROACT
from procurement.settings import CODES

FILE = "red-flags.json"


def filter_results(document: dict[str, Any], groups: list[str] | None = None,
                   codes: list[str] | None = None, meta: bool = True) -> dict[str, Any]:
    """Cardinal's shape kept: only the asked groups (``OCID``, ``Buyer``, ``ProcuringEntity``, ``Tenderer``)
    and codes; an identifier left with no code is left out, as Cardinal leaves it out."""
    for group in groups or []:
        if group not in GROUPS:
            raise QueryError(f"group '{group}' is not one of {', '.join(GROUPS)}", parameter="group")
    for code in codes or []:
        if code not in CODES + PROACT:
            raise QueryError(f"code '{code}' is not one of {', '.join(CODES + PROACT)}", parameter="code")
    kept: dict[str, Any] = {}
    for group in GROUPS:
        if group not in document or (groups and group not in groups):
            continue
        values = {key: {c: v for c, v in found.items() if not codes or c in codes}
                  for key, found in document[group].items()}
        values = {key: found for key, found in values.items() if found}
        if values:
            kept[group] = values
    if "Transparency" in document and (not groups or "Buyer" in groups) and not codes:
        kept["Transparency"] = document["Transparency"]
    if meta and "Meta" in document:
        kept["Meta"] = {c: v for c, v in document["Meta"].items() if not codes or c in codes}
    return kept
