"""Reading the parts of an OCDS compiled release the indicators need, tolerant of missing or odd values.

A compiled release is a JSON object; any field may be missing or of the wrong type in real data, so every
reader here returns ``None`` or an empty list rather than raising.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
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
    if not isinstance(value, dict):
        return None
    found = value.get("id")
    kind = type(found)
    if kind is str:  # the common cases first: this runs for every reference of every release
        return found or None
    if kind is int or kind is float:
        return str(found)
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
    return _parse_date(value)


@lru_cache(maxsize=65_536)
def _parse_date(value: str) -> datetime | None:
    """Parsed once per distinct text: real data repeats its dates (deadlines, award days) many times."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
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
        # Written out rather than with obj/arr/text: this runs once per process and is the indicators' hot path.
        self.ocid = ocid
        self.release = release
        tender = release.get("tender")
        self.tender = tender = tender if isinstance(tender, dict) else {}
        found = tender.get("procurementMethod")
        self.method = found if isinstance(found, str) else None
        found = tender.get("procurementMethodDetails")
        self.details = found if isinstance(found, str) else None
        self.bids = []
        self.submitted = []
        self.valid = []
        for bid in bids(release):
            refs = bid.get("tenderers")
            ids = [i for i in map(ident, refs) if i is not None] if isinstance(refs, list) else []
            status = bid.get("status")
            made = Bid(status if isinstance(status, str) else None, ids, price(bid.get("value"), ocid),
                       bid.get("date"))
            self.bids.append(made)
            if made.status in SUBMITTED:
                self.submitted.append(made)
                if made.status == "valid":
                    self.valid.append(made)
        self.awards = awards(release)
        #: Per active award, its suppliers' ids and how many supplier references it has.
        self.active_suppliers: list[tuple[list[str], int]] = []
        final = True
        for award in self.awards:
            status = award.get("status")
            if not isinstance(status, str) or status not in FINAL_AWARD:
                final = False
            if status == "active":
                refs = award.get("suppliers")
                found_refs = refs if isinstance(refs, list) else []
                self.active_suppliers.append(([i for i in map(ident, found_refs) if i is not None],
                                              len(found_refs)))
        self.final = final

    def winners(self) -> set[str]:
        return {s for ids, _ in self.active_suppliers for s in ids}

    def single_winner(self) -> str | None:
        """The supplier of the one active award, when every award is final, there is one active award and it
        has one supplier (Cardinal's exclusions for price comparisons and win ratios)."""
        if not self.final or len(self.active_suppliers) != 1:
            return None
        ids, refs = self.active_suppliers[0]
        return ids[0] if refs == 1 and len(ids) == 1 else None
