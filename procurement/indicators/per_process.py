"""Indicators decided by one contracting process alone: R003, R018, R028, R030, R035, R036."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from procurement import compiled as c
from procurement.settings import IndicatorSettings

if TYPE_CHECKING:
    from procurement.indicators import Scores

Money = Callable[[Any, str], float | None]


class PerProcess:
    def __init__(self, settings: IndicatorSettings, scores: Scores) -> None:
        self.settings = settings
        self.scores = scores
        self.on = settings.enabled
        self.r003_methods = settings.methods("R003")
        self.r003_threshold = int(settings.number("R003", "threshold", 15))
        self.r018_methods = settings.methods("R018", "open|selective")
        self.r035_threshold = int(settings.number("R035", "threshold", 1))

    def add(self, release: c.Release, ocid: str, money: Money) -> None:
        if "R003" in self.on:
            self.r003(release, ocid)
        if "R018" in self.on:
            self.r018(release, ocid)
        compares = self.settings.compares_prices(c.method_details(release))
        if "R028" in self.on and compares:
            self.r028(release, ocid, money)
        if "R030" in self.on:
            self.r030(release, ocid)
        if "R035" in self.on:
            self.r035(release, ocid)
        if "R036" in self.on and compares:
            self.r036(release, ocid, money)

    def r003(self, release: c.Release, ocid: str) -> None:
        """Short submission period: tenderPeriod shorter than the threshold, in whole days."""
        if self.r003_methods and c.method(release) not in self.r003_methods:
            return
        period = c.obj(c.obj(release, "tender"), "tenderPeriod")
        start, end = c.parse_date(period.get("startDate")), c.parse_date(period.get("endDate"))
        if start is None or end is None:
            return
        days = math.trunc((end - start).total_seconds() / 86_400)
        details = c.method_details(release)
        threshold = self.settings.r003_thresholds.get(details, self.r003_threshold) if details else \
            self.r003_threshold
        if days < threshold:
            self.scores.flag("OCID", ocid, "R003", 1.0)

    def r018(self, release: c.Release, ocid: str) -> None:
        """Single bid received in a competitive procedure."""
        if c.method(release) not in self.r018_methods:
            return
        declared = c.obj(release, "tender").get("numberOfTenderers")
        if isinstance(declared, int) and not isinstance(declared, bool):
            count = declared
        else:
            submitted = c.submitted_bids(release)
            if not submitted:
                return
            count = len({t for b in submitted for t in c.tenderer_ids(b)})
        if count == 1:
            self.scores.flag("OCID", ocid, "R018", 1.0)

    def r028(self, release: c.Release, ocid: str, money: Money) -> None:
        """Identical bid prices from different tenderers."""
        by_price: dict[float, set[str]] = {}
        for bid in c.submitted_bids(release):
            price = money(bid.get("value"), ocid)
            if price is None:
                continue
            by_price.setdefault(price, set()).update(c.tenderer_ids(bid))
        same = {t for tenderers in by_price.values() if len(tenderers) > 1 for t in tenderers}
        if same:
            self.scores.flag("OCID", ocid, "R028", 1.0)
            for tenderer in sorted(same):
                self.scores.flag("Tenderer", tenderer, "R028", 1.0)

    def r030(self, release: c.Release, ocid: str) -> None:
        """A valid bid received after the submission deadline, from a supplier of an active award."""
        deadline = c.parse_date(c.obj(c.obj(release, "tender"), "tenderPeriod").get("endDate"))
        if deadline is None:
            return
        winners = c.winning_suppliers(release)
        late: set[str] = set()
        for bid in c.valid_bids(release):
            received = c.parse_date(bid.get("date"))
            if received is not None and received > deadline:
                late.update(t for t in c.tenderer_ids(bid) if t in winners)
        if late:
            self.scores.flag("OCID", ocid, "R030", 1.0)
            for tenderer in sorted(late):
                self.scores.flag("Tenderer", tenderer, "R030", 1.0)

    def r035(self, release: c.Release, ocid: str) -> None:
        """All bids except the winner's disqualified: the value is the number of tenderers disqualified."""
        if not c.awards_final(release):
            return
        active = c.active_awards(release)
        if not active:
            return
        valid = {t for b in c.valid_bids(release) for t in c.tenderer_ids(b)}
        if len(valid) != 1 or c.winning_suppliers(release) != valid:
            return
        disqualified = {t for b in c.bids(release) if c.text(b, "status") == "disqualified"
                        for t in c.tenderer_ids(b)} - valid
        if len(disqualified) >= self.r035_threshold and disqualified:
            self.scores.flag("OCID", ocid, "R035", float(len(disqualified)))
            self.scores.flag("Tenderer", next(iter(valid)), "R035", 0.0)

    def r036(self, release: c.Release, ocid: str, money: Money) -> None:
        """The lowest submitted bid is disqualified while a valid bid with an amount exists."""
        if not c.active_awards(release):
            return
        lowest_disqualified = lowest_other = math.inf
        has_valid = False
        for bid in c.submitted_bids(release):
            price = money(bid.get("value"), ocid)
            if price is None:
                continue
            if c.text(bid, "status") == "disqualified":
                lowest_disqualified = min(lowest_disqualified, price)
            else:
                has_valid = has_valid or c.text(bid, "status") == "valid"
                lowest_other = min(lowest_other, price)
        if has_valid and lowest_disqualified < lowest_other:
            self.scores.flag("OCID", ocid, "R036", 1.0)
