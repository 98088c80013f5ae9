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


def awards(release: Release) -> list[dict[str, Any]]:
    return arr(release, "awards")


def method_details(release: Release) -> str | None:
    return text(obj(release, "tender"), "procurementMethodDetails")


def method(release: Release) -> str | None:
    return text(obj(release, "tender"), "procurementMethod")


class Bid:
    """One bid as the indicators read it: its status, tenderer ids, price in the main currency, date."""

    __slots__ = ("status", "tenderers", "price", "date")

    def __init__(self, status: str | None, tenderers: list[str], price: float | None, date: Any) -> None:
        self.status, self.tenderers, self.price, self.date = status, tenderers, price, date


class Process:
    """A compiled release read once: what every indicator needs, so no indicator walks the JSON again."""

    __slots__ = ("ocid", "release", "tender", "bids", "submitted", "valid", "active_suppliers", "final",
                 "awards", "method", "details")

    def __init__(self, ocid: str, release: Release, price: Any) -> None:
        self.ocid = ocid
        self.release = release
        self.tender = obj(release, "tender")
        self.method = text(self.tender, "procurementMethod")
        self.details = text(self.tender, "procurementMethodDetails")
        self.bids = []
        for bid in bids(release):
            refs = bid.get("tenderers")
            ids = [i for i in (ident(t) for t in refs) if i is not None] if isinstance(refs, list) else []
            status = bid.get("status")
            self.bids.append(Bid(status if isinstance(status, str) else None, ids, price(bid.get("value"), ocid),
                                 bid.get("date")))
        self.submitted = [b for b in self.bids if b.status in SUBMITTED]
        self.valid = [b for b in self.bids if b.status == "valid"]
        self.awards = awards(release)
        self.final = all(text(a, "status") in FINAL_AWARD for a in self.awards)
        #: Per active award, its suppliers' ids and how many supplier references it has.
        self.active_suppliers: list[tuple[list[str], int]] = []
        for award in self.awards:
            if award.get("status") == "active":
                refs = award.get("suppliers")
                found = refs if isinstance(refs, list) else []
                self.active_suppliers.append(([i for i in (ident(s) for s in found) if i is not None], len(found)))

    def winners(self) -> set[str]:
        return {s for ids, _ in self.active_suppliers for s in ids}

    def single_winner(self) -> str | None:
        """The supplier of the one active award, when every award is final, there is one active award and it
        has one supplier (Cardinal's exclusions for price comparisons and win ratios)."""
        if not self.final or len(self.active_suppliers) != 1:
            return None
        ids, refs = self.active_suppliers[0]
        return ids[0] if refs == 1 and len(ids) == 1 else None
