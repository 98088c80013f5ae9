"""Indicators decided by one contracting process alone: R003, R018, R028, R030, R035, R036."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from procurement import compiled as c
from procurement.settings import IndicatorSettings

if TYPE_CHECKING:
    from procurement.indicators import Scores


class PerProcess:
    def __init__(self, settings: IndicatorSettings, scores: Scores) -> None:
        self.settings = settings
        self.scores = scores
        self.on = settings.enabled
        self.r003_methods = settings.methods("R003")
        self.r003_threshold = int(settings.number("R003", "threshold", 15))
        self.r018_methods = settings.methods("R018", "open|selective")
        self.r035_threshold = int(settings.number("R035", "threshold", 1))

    def add(self, process: c.Process) -> None:
        if "R003" in self.on:
            self.r003(process)
        if "R018" in self.on:
            self.r018(process)
        compares = self.settings.compares_prices(process.details)
        if "R028" in self.on and compares:
            self.r028(process)
        if "R030" in self.on:
            self.r030(process)
        if "R035" in self.on:
            self.r035(process)
        if "R036" in self.on and compares:
            self.r036(process)

    def r003(self, process: c.Process) -> None:
        """Short submission period: tenderPeriod shorter than the threshold, in whole days."""
        if self.r003_methods and process.method not in self.r003_methods:
            return
        period = c.obj(process.tender, "tenderPeriod")
        start, end = c.parse_date(period.get("startDate")), c.parse_date(period.get("endDate"))
        if start is None or end is None:
            return
        days = math.trunc((end - start).total_seconds() / 86_400)
        threshold = self.settings.r003_thresholds.get(process.details, self.r003_threshold) \
            if process.details else self.r003_threshold
        if days < threshold:
            self.scores.flag("OCID", process.ocid, "R003", 1.0)

    def r018(self, process: c.Process) -> None:
        """Single bid received in a competitive procedure."""
        if process.method not in self.r018_methods:
            return
        declared = process.tender.get("numberOfTenderers")
        if isinstance(declared, int) and not isinstance(declared, bool):
            count = declared
        elif process.submitted:
            count = len({t for b in process.submitted for t in b.tenderers})
        else:
            return
        if count == 1:
            self.scores.flag("OCID", process.ocid, "R018", 1.0)

    def r028(self, process: c.Process) -> None:
        """Identical bid prices from different tenderers."""
        by_price: dict[float, set[str]] = {}
        for bid in process.submitted:
            if bid.price is not None:
                by_price.setdefault(bid.price, set()).update(bid.tenderers)
        same = {t for tenderers in by_price.values() if len(tenderers) > 1 for t in tenderers}
        if same:
            self.scores.flag("OCID", process.ocid, "R028", 1.0)
            for tenderer in sorted(same):
                self.scores.flag("Tenderer", tenderer, "R028", 1.0)

    def r030(self, process: c.Process) -> None:
        """A valid bid received after the submission deadline, from a supplier of an active award."""
        if not process.active_suppliers or not process.valid:
            return
        deadline = c.parse_date(c.obj(process.tender, "tenderPeriod").get("endDate"))
        if deadline is None:
            return
        winners = process.winners()
        late: set[str] = set()
        for bid in process.valid:
            if winners.intersection(bid.tenderers):
                received = c.parse_date(bid.date)
                if received is not None and received > deadline:
                    late.update(t for t in bid.tenderers if t in winners)
        if late:
            self.scores.flag("OCID", process.ocid, "R030", 1.0)
            for tenderer in sorted(late):
                self.scores.flag("Tenderer", tenderer, "R030", 1.0)

    def r035(self, process: c.Process) -> None:
        """All bids except the winner's disqualified: the value is the number of tenderers disqualified."""
        if not process.final or not process.active_suppliers:
            return
        valid = {t for b in process.valid for t in b.tenderers}
        if len(valid) != 1 or process.winners() != valid:
            return
        disqualified = {t for b in process.bids if b.status == "disqualified" for t in b.tenderers} - valid
        if disqualified and len(disqualified) >= self.r035_threshold:
            self.scores.flag("OCID", process.ocid, "R035", float(len(disqualified)))
            self.scores.flag("Tenderer", next(iter(valid)), "R035", 0.0)

    def r036(self, process: c.Process) -> None:
        """The lowest submitted bid is disqualified while a valid bid with an amount exists."""
        if not process.active_suppliers:
            return
        lowest_disqualified = lowest_other = math.inf
        has_valid = False
        for bid in process.submitted:
            if bid.price is None:
                continue
            if bid.status == "disqualified":
                lowest_disqualified = min(lowest_disqualified, bid.price)
            else:
                has_valid = has_valid or bid.status == "valid"
                lowest_other = min(lowest_other, bid.price)
        if has_valid and lowest_disqualified < lowest_other:
            self.scores.flag("OCID", process.ocid, "R036", 1.0)
