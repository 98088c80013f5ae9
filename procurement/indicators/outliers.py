"""Indicators that compare a process or an organisation with all others: R024, R025, R038, R048, R058.

``add`` keeps a small tally per process or organisation; ``finish`` computes quartiles and fences (or takes
the configured ``threshold``), records them in ``Meta`` and flags the outliers.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import orjson

from procurement import compiled as c
from procurement.quartiles import lower_fence, quantile, quartiles, upper_fence
from procurement.settings import IndicatorSettings

if TYPE_CHECKING:
    from procurement.indicators import Scores

class Outliers:
    """``spill``: a file for R024/R058's per-process tally (ocid, winner, second lowest bidder, one JSON line
    each) with only the differences kept in memory (8 bytes a process), for a caller whose processes each
    come once (the family run: one compiled release per ocid); without it the tally is a dict, as
    ``procurement.parallel`` merges it from its parts (and a repeated ocid counts once, its last values)."""

    def __init__(self, settings: IndicatorSettings, scores: Scores, spill: Path | None = None) -> None:
        self.settings = settings
        self.scores = scores
        self.on = settings.enabled
        self.second_lowest: dict[str, tuple[float, str, str]] = {}  # ocid -> (difference, winner, second)
        #: One string per tenderer id for ``second_lowest`` (each release parses its own copies; kept there
        #: once per process they would cost two strings per process instead of one per tenderer).
        self._tenderers: dict[str, str] = {}
        self._spill: IO[bytes] | None = open(spill, "w+b") if spill is not None else None
        self._differences = array("d")
        self.r025: dict[str, list[int]] = {}  # tenderer -> [winning bids, valid bids]
        self.r038: dict[str, dict[str, list[int]]] = {"Buyer": {}, "ProcuringEntity": {}, "Tenderer": {}}
        #: supplier -> [processes awarded, last ocid, classification prefixes, first ocid]
        self.r048: dict[str, list] = {}
        self.digits = int(settings.number("R048", "digits", 2))

    def add(self, process: c.Process) -> None:
        if ("R024" in self.on or "R058" in self.on) and self.settings.compares_prices(process.details):
            self._second_lowest(process)
        if "R025" in self.on:
            self._win_ratio(process)
        if "R038" in self.on:
            self._disqualified(process)
        if "R048" in self.on:
            self._variety(process)

    def _second_lowest(self, process: c.Process) -> None:
        winner = process.single_winner()
        if winner is None:
            return
        winner_amount: float | None = None
        second: tuple[float, str] | None = None
        for bid in process.valid:
            if len(bid.tenderers) != 1:
                return  # a bid by several tenderers: who won what cannot be told
            if bid.price is None:
                continue
            if bid.tenderers[0] == winner:
                winner_amount = bid.price if winner_amount is None else min(winner_amount, bid.price)
            elif second is None or bid.price < second[0]:
                second = (bid.price, bid.tenderers[0])
        if winner_amount is None or second is None or winner_amount <= 0 or second[0] < winner_amount:
            return  # no comparison, or the lowest bid did not win (the award criteria are not price only)
        if self._spill is not None:
            self._differences.append((second[0] - winner_amount) / winner_amount)
            self._spill.write(orjson.dumps([process.ocid, winner, second[1]]) + b"\n")
            return
        known = self._tenderers
        self.second_lowest[process.ocid] = ((second[0] - winner_amount) / winner_amount,
                                            known.setdefault(winner, winner), known.setdefault(second[1], second[1]))

    def _win_ratio(self, process: c.Process) -> None:
        winner = process.single_winner()
        if winner is None or any(len(b.tenderers) != 1 for b in process.valid):
            return
        for bid in process.valid:
            tally = self.r025.get(bid.tenderers[0])
            if tally is None:
                tally = self.r025[bid.tenderers[0]] = [0, 0]
            tally[0] += bid.tenderers[0] == winner
            tally[1] += 1

    def _disqualified(self, process: c.Process) -> None:
        if not process.submitted:
            return
        disqualified = 0
        tenderers = self.r038["Tenderer"]
        for bid in process.submitted:
            out = int(bid.status == "disqualified")
            disqualified += out
            for tenderer in bid.tenderers:
                tally = tenderers.get(tenderer)
                if tally is None:
                    tally = tenderers[tenderer] = [0, 0]
                tally[0] += out
                tally[1] += 1
        for group, party in (("Buyer", c.obj(process.release, "buyer")),
                             ("ProcuringEntity", c.obj(process.tender, "procuringEntity"))):
            key = c.ident(party)
            if key is not None:
                tally = self.r038[group].setdefault(key, [0, 0])
                tally[0] += disqualified
                tally[1] += len(process.submitted)

    def _variety(self, process: c.Process) -> None:
        awards = [a for a in process.awards if a.get("status") == "active"]
        for award, (suppliers, refs) in zip(awards, process.active_suppliers, strict=True):
            if refs != 1 or len(suppliers) != 1:
                continue
            tally = self.r048.get(suppliers[0])
            if tally is None:
                tally = self.r048[suppliers[0]] = [0, None, set(), process.ocid]
            if tally[1] != process.ocid:  # a process counts once, however many awards it makes the supplier
                tally[0], tally[1] = tally[0] + 1, process.ocid
            prefixes: set[str] = tally[2]
            for item in c.arr(award, "items"):
                code = c.obj(item, "classification").get("id")
                if isinstance(code, int | str) and not isinstance(code, bool) and str(code):
                    prefixes.add(str(code)[: self.digits])

    def _second_lowest_found(self) -> bool:
        return bool(self.second_lowest) or bool(self._differences)

    def _second_lowest_differences(self) -> list[float] | array[float]:
        return self._differences if self._spill is not None else [d for d, _, _ in self.second_lowest.values()]

    def _second_lowest_items(self) -> Iterator[tuple[str, tuple[float, str, str]]]:
        """(ocid, (difference, winner, second)) in the order the processes came."""
        if self._spill is None:
            yield from self.second_lowest.items()
            return
        self._spill.flush()
        self._spill.seek(0)
        for difference, line in zip(self._differences, self._spill, strict=True):
            ocid, winner, second = orjson.loads(line)
            yield ocid, (difference, winner, second)

    def finish(self) -> None:
        try:
            self._finish()
        finally:
            if self._spill is not None:
                self._spill.close()

    def _finish(self) -> None:
        if "R024" in self.on:
            self._finish_r024()
        if "R058" in self.on:
            self._finish_r058()
        if "R025" in self.on:
            self._finish_r025()
        if "R038" in self.on:
            self._finish_r038()
        if "R048" in self.on:
            self._finish_r048()

    def _fence(self, code: str, values: list[float] | array[float], upper: bool, prefix: str = "") -> float:
        configured = self.settings.optional_number(code, "threshold")
        if configured is not None:
            return configured
        q1, q3 = quartiles(values)
        fence = upper_fence(q1, q3) if upper else lower_fence(q1, q3)
        self.scores.set_meta(code, f"{prefix}q1", q1)
        self.scores.set_meta(code, f"{prefix}q3", q3)
        self.scores.set_meta(code, f"{prefix}{'upper' if upper else 'lower'}_fence", fence)
        return fence

    def _finish_r024(self) -> None:
        if not self._second_lowest_found():
            return
        fence = self._fence("R024", self._second_lowest_differences(), upper=False)
        for ocid, (difference, winner, second) in self._second_lowest_items():
            if difference <= fence:
                self.scores.flag("OCID", ocid, "R024", difference)
                self.scores.flag("Tenderer", winner, "R024", 0.0)
                self.scores.flag("Tenderer", second, "R024", 0.0)

    def _finish_r058(self) -> None:
        if not self._second_lowest_found():
            return
        fence = self._fence("R058", self._second_lowest_differences(), upper=True)
        for ocid, (difference, winner, _) in self._second_lowest_items():
            if difference >= fence:
                self.scores.flag("OCID", ocid, "R058", difference)
                self.scores.flag("Tenderer", winner, "R058", 0.0)

    def _finish_r025(self) -> None:
        if not self.r025:
            return
        percentile = self.settings.number("R025", "percentile", 75) / 100
        top = quantile([float(valid) for _, valid in self.r025.values()], percentile)
        self.scores.set_meta("R025", "valid_bids_percentile", top)
        ratios = {t: wins / valid for t, (wins, valid) in self.r025.items()}
        fence = self._fence("R025", list(ratios.values()), upper=False)
        for tenderer, ratio in ratios.items():
            if self.r025[tenderer][1] >= top and ratio <= fence:
                self.scores.flag("Tenderer", tenderer, "R025", ratio)

    def _finish_r038(self) -> None:
        # Cardinal counts an organisation's submitted bids against both minimums (the worked example of R038
        # flags a buyer of one process with two bids), so this does too, to give the same results.
        minimums = {"Buyer": self.settings.number("R038", "minimum_contracting_processes", 2),
                    "ProcuringEntity": self.settings.number("R038", "minimum_contracting_processes", 2),
                    "Tenderer": self.settings.number("R038", "minimum_submitted_bids", 2)}
        for group, tallies in self.r038.items():
            ratios = {k: out / submitted for k, (out, submitted) in tallies.items() if submitted >= minimums[group]}
            if not ratios:
                continue
            fence = self._fence("R038", list(ratios.values()), upper=True, prefix=f"{group}_")
            for key, ratio in ratios.items():
                if ratio >= fence and ratio > 0:  # no disqualified bid is never an excess of them
                    self.scores.flag(group, key, "R038", ratio)

    def _finish_r048(self) -> None:
        minimum = self.settings.number("R048", "minimum_contracting_processes", 20)
        eligible = {s: len(prefixes) for s, (count, _, prefixes, _) in self.r048.items() if count >= minimum}
        if not eligible:
            return
        fence = self._fence("R048", [float(v) for v in eligible.values()], upper=True)
        for supplier, variety in eligible.items():
            if variety >= fence:
                self.scores.flag("Tenderer", supplier, "R048", float(variety))
