"""Integrity indicators of the World Bank's ProACT (Procurement Anticorruption and Transparency platform) that
OCDS data supports and Cardinal lacks, and a transparency score per buyer (share of key fields filled, as
opentender.eu reports it). Each runs only when its section is in the settings file (``[P001]`` ...,
``[transparency]``), so ``opendata procurement indicators`` stays comparable with Cardinal by default.

Sources: ProACT methodology, "Integrity risk indicators" (World Bank, 2021,
https://www.procurementintegrity.org/methodology): non-open procedure, decision period, supplier's share of
the buyer's spending (buyer concentration), cost overrun, delivery delay, call for tenders not published;
opentender.eu's transparency indicator (Digiwhist, https://opentender.eu/about: "the share of key
information published").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from procurement import compiled as c
from procurement.settings import IndicatorSettings

if TYPE_CHECKING:
    from procurement.indicators import Scores

PROACT = ("P001", "P002", "P003", "P004", "P005", "P006")

#: The key fields of the transparency score: (label, reader of a compiled release's Process).
KEY_FIELDS: list[tuple[str, Any]] = [
    ("tender title", lambda p: c.text(p.tender, "title")),
    ("procedure type", lambda p: p.method),
    ("estimated value", lambda p: c.amount(p.tender.get("value"))),
    ("submission deadline", lambda p: c.text(c.obj(p.tender, "tenderPeriod"), "endDate")),
    ("item classification", lambda p: any(c.obj(i, "classification").get("id") for i in c.arr(p.tender, "items"))),
    ("bids or number of tenderers", lambda p: p.bids or p.tender.get("numberOfTenderers") is not None),
    ("award date", lambda p: any(c.text(a, "date") for a in p.awards)),
    ("award value", lambda p: any(c.amount(a.get("value")) for a in p.awards)),
    ("supplier identifier", lambda p: any(ids for ids, _ in p.active_suppliers)),
    ("contract signature date", lambda p: any(c.text(k, "dateSigned") for k in c.arr(p.release, "contracts"))),
    ("contract value", lambda p: any(c.amount(k.get("value")) for k in c.arr(p.release, "contracts"))),
]


def _days(start: Any, end: Any) -> float | None:
    first, last = c.parse_date(start), c.parse_date(end)
    return None if first is None or last is None else (last - first).total_seconds() / 86_400


class ProAct:
    def __init__(self, settings: IndicatorSettings, scores: Scores) -> None:
        self.settings = settings
        self.scores = scores
        self.on = settings.enabled
        self.spending: dict[str, dict[str, float]] = {}  # buyer -> supplier -> awarded value (main currency)
        self.buyer_processes: dict[str, int] = {}
        #: Set by procurement.parallel for a part of a run: each award's value kept (buyer -> supplier -> values)
        #: rather than summed, so the whole run adds them in the order of one pass (the same float sums).
        self.values: dict[str, dict[str, list[float]]] | None = None
        self.transparency: dict[str, list[int]] = {}  # buyer -> [processes, filled per key field...]
        # Read once, not per process.
        self.p001_methods = settings.methods("P001", "selective|limited|direct")
        self.p006_methods = settings.methods("P006", "open|selective")
        self.p002_days = (settings.number("P002", "short_days", 5), settings.number("P002", "long_days", 120))
        self.p004_threshold = settings.number("P004", "threshold", 0.2)
        self.p005_threshold = settings.number("P005", "threshold", 30)

    def add(self, process: c.Process, money: Any) -> None:
        buyer = c.ident(c.obj(process.release, "buyer"))
        if "P001" in self.on and process.method in self.p001_methods:
            self.scores.flag("OCID", process.ocid, "P001", 1.0)
        if "P002" in self.on:
            self._decision_period(process)
        if "P003" in self.on and buyer is not None:
            self._spending(process, buyer, money)
        if "P004" in self.on:
            self._cost_overrun(process, money)
        if "P005" in self.on:
            self._delivery_delay(process)
        if "P006" in self.on and process.method in self.p006_methods:
            notice = any(c.text(d, "documentType") == "tenderNotice" for d in c.arr(process.tender, "documents"))
            if not notice and not c.text(c.obj(process.tender, "tenderPeriod"), "startDate"):
                self.scores.flag("OCID", process.ocid, "P006", 1.0)
        if "transparency" in self.on and buyer is not None:
            tally = self.transparency.setdefault(buyer, [0] * (len(KEY_FIELDS) + 1))
            tally[0] += 1
            for index, (_, read) in enumerate(KEY_FIELDS, start=1):
                tally[index] += bool(read(process))

    def _decision_period(self, process: c.Process) -> None:
        deadline = c.obj(process.tender, "tenderPeriod").get("endDate")
        dates = sorted(d for d in (c.text(a, "date") for a in process.awards if c.text(a, "status") == "active") if d)
        days = _days(deadline, dates[0]) if dates else None
        if days is None or days < 0:
            return
        if days <= self.p002_days[0] or days >= self.p002_days[1]:
            self.scores.flag("OCID", process.ocid, "P002", round(days, 2))

    def _spending(self, process: c.Process, buyer: str, money: Any) -> None:
        self.buyer_processes[buyer] = self.buyer_processes.get(buyer, 0) + 1
        for award in process.awards:
            if c.text(award, "status") != "active":
                continue
            value = money(award.get("value"), process.ocid)
            suppliers = [s for s in (c.ident(r) for r in c.arr(award, "suppliers")) if s]
            if value is None or len(suppliers) != 1:
                continue
            if self.values is not None:
                self.values.setdefault(buyer, {}).setdefault(suppliers[0], []).append(value)
                continue
            shares = self.spending.setdefault(buyer, {})
            shares[suppliers[0]] = shares.get(suppliers[0], 0.0) + value

    def _cost_overrun(self, process: c.Process, money: Any) -> None:
        awarded = {c.ident(a): money(a.get("value"), process.ocid) for a in process.awards
                   if c.text(a, "status") == "active"}
        threshold = self.p004_threshold
        for contract in c.arr(process.release, "contracts"):
            planned = awarded.get(c.text(contract, "awardID"))
            if not planned or planned <= 0:
                continue
            final = money(contract.get("value"), process.ocid) or 0.0
            paid = sum(money(t.get("value"), process.ocid) or 0.0
                       for t in c.arr(c.obj(contract, "implementation"), "transactions"))
            overrun = (max(final, paid) - planned) / planned
            if overrun >= threshold:
                self.scores.flag("OCID", process.ocid, "P004", round(overrun, 4))
                return

    def _delivery_delay(self, process: c.Process) -> None:
        threshold = self.p005_threshold
        worst = 0.0
        for contract in c.arr(process.release, "contracts"):
            planned_end = c.obj(contract, "period").get("endDate")
            implementation = c.obj(contract, "implementation")
            for milestone in c.arr(implementation, "milestones"):
                late = _days(milestone.get("dueDate"), milestone.get("dateMet"))
                worst = max(worst, late or 0.0)
            for transaction in c.arr(implementation, "transactions"):
                worst = max(worst, _days(planned_end, transaction.get("date")) or 0.0)
        if worst >= threshold:
            self.scores.flag("OCID", process.ocid, "P005", round(worst, 2))

    def finish(self) -> None:
        if "P003" in self.on:
            threshold = self.settings.number("P003", "threshold", 0.5)
            minimum = self.settings.number("P003", "minimum_contracting_processes", 5)
            for buyer, shares in self.spending.items():
                total = sum(shares.values())
                if total <= 0 or self.buyer_processes.get(buyer, 0) < minimum:
                    continue
                supplier, top = max(shares.items(), key=lambda kv: kv[1])
                if top / total >= threshold:
                    self.scores.flag("Buyer", buyer, "P003", top / total)
                    self.scores.flag("Tenderer", supplier, "P003", top / total)
        if "transparency" in self.on:
            for buyer, tally in self.transparency.items():
                processes, filled = tally[0], tally[1:]
                self.scores.transparency[buyer] = {
                    "score": round(sum(filled) / (processes * len(KEY_FIELDS)), 4), "processes": processes,
                    "fields": {label: round(n / processes, 4) for (label, _), n in zip(KEY_FIELDS, filled,
                                                                                      strict=True)}}
