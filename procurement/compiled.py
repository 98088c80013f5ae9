"""Reading the parts of an OCDS compiled release the indicators need, tolerant of missing or odd values.

A compiled release is a JSON object; any field may be missing or of the wrong type in real data, so every
reader here returns ``None`` or an empty list rather than raising.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: A bid is submitted if pending, valid or disqualified (not invited or withdrawn).
SUBMITTED = frozenset({"pending", "valid", "disqualified"})
#: Award statuses after which an award will not change (pending and invalid are not final).
FINAL_AWARD = frozenset({"active", "cancelled", "unsuccessful"})

Release = dict[str, Any]


def obj(value: Any, key: str) -> dict[str, Any]:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else {}


def arr(value: Any, key: str) -> list[dict[str, Any]]:
    found = value.get(key) if isinstance(value, dict) else None
    return [v for v in found if isinstance(v, dict)] if isinstance(found, list) else []


def text(value: Any, key: str) -> str | None:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def ident(value: Any) -> str | None:
    """An organisation reference's ``id`` as text (numbers too, as Cardinal's prepare step would give them)."""
    found = value.get("id") if isinstance(value, dict) else None
    if isinstance(found, bool) or found is None:
        return None
    if isinstance(found, int | float | str):
        return str(found) if found != "" else None
    return None


def amount(value: Any) -> tuple[float, str | None] | None:
    """A Value object's (amount, currency), or None when the amount is not a number."""
    if not isinstance(value, dict):
        return None
    number = value.get("amount")
    if isinstance(number, bool) or not isinstance(number, int | float):
        return None
    currency = value.get("currency")
    return float(number), currency if isinstance(currency, str) else None


def parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def bids(release: Release) -> list[dict[str, Any]]:
    return arr(obj(release, "bids"), "details")


def submitted_bids(release: Release) -> list[dict[str, Any]]:
    return [b for b in bids(release) if text(b, "status") in SUBMITTED]


def valid_bids(release: Release) -> list[dict[str, Any]]:
    return [b for b in bids(release) if text(b, "status") == "valid"]


def tenderer_ids(bid: dict[str, Any]) -> list[str]:
    return [i for i in (ident(t) for t in arr(bid, "tenderers")) if i is not None]


def supplier_ids(award: dict[str, Any]) -> list[str]:
    return [i for i in (ident(s) for s in arr(award, "suppliers")) if i is not None]


def awards(release: Release) -> list[dict[str, Any]]:
    return arr(release, "awards")


def active_awards(release: Release) -> list[dict[str, Any]]:
    return [a for a in awards(release) if text(a, "status") == "active"]


def awards_final(release: Release) -> bool:
    """No award is pending or invalid (any award without a final status keeps the process open)."""
    return all(text(a, "status") in FINAL_AWARD for a in awards(release))


def single_winner(release: Release) -> str | None:
    """The supplier of the one active award, when every award is final, there is exactly one active award and
    it has exactly one supplier (Cardinal's exclusions for price comparisons and win ratios)."""
    if not awards_final(release):
        return None
    active = active_awards(release)
    if len(active) != 1:
        return None
    suppliers = arr(active[0], "suppliers")
    if len(suppliers) != 1:
        return None
    return ident(suppliers[0])


def winning_suppliers(release: Release) -> set[str]:
    return {s for a in active_awards(release) for s in supplier_ids(a)}


def method_details(release: Release) -> str | None:
    return text(obj(release, "tender"), "procurementMethodDetails")


def method(release: Release) -> str | None:
    return text(obj(release, "tender"), "procurementMethod")
