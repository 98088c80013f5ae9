"""Cardinal's red-flag indicators over OCDS compiled releases, in one streaming pass.

``score(releases, settings)`` folds each compiled release into per-process results and per-organisation
tallies, then finalises the outlier indicators (quartiles and fences over the whole set). The result has
Cardinal's output shape: ``{"OCID": {...}, "Buyer": {...}, "ProcuringEntity": {...}, "Tenderer": {...},
"Meta": {...}}``, a group appearing only when it has a result. Memory grows with the number of processes
and organisations kept for the outlier indicators, not with the size of the releases.

Definitions: ``docs/procurement.md`` and the reference pages of each code (open-contracting/cardinal-rs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from procurement import compiled as c
from procurement.findings import Finding, Findings
from procurement.group_flags import GroupFlags, StagedGroup
from procurement.indicators.outliers import Outliers
from procurement.indicators.per_process import PerProcess
from procurement.indicators.proact import ProAct
from procurement.ocid_flags import OcidFlags
from procurement.settings import CODES, IndicatorSettings

GROUPS = ("OCID", "Buyer", "ProcuringEntity", "Tenderer")


@dataclass
class Scores:
    """Results as Cardinal shapes them, plus what was left out and why."""

    results: dict[str, dict[str, dict[str, float]]] = field(default_factory=lambda: {g: {} for g in GROUPS})
    meta: dict[str, dict[str, float]] = field(default_factory=dict)
    findings: Findings = field(default_factory=Findings)
    processes: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    currency: str | None = None
    #: Per buyer: transparency score and the share of each key field filled (only with [transparency]).
    transparency: dict[str, dict[str, Any]] = field(default_factory=dict)

    def flag(self, group: str, key: str, code: str, value: float) -> None:
        results = self.results[group]
        if isinstance(results, (OcidFlags, GroupFlags)):
            results.add(key, code, float(value))
            return
        found = results.get(key)
        if found is None:
            found = results[key] = {}
        found[code] = float(value)

    def set_meta(self, code: str, name: str, value: float) -> None:
        self.meta.setdefault(code, {})[name] = round(value * 10_000) / 10_000

    def exclude(self, reason: str) -> None:
        self.excluded[reason] = self.excluded.get(reason, 0) + 1

    def as_cardinal(self, meta: bool = True, lazy: bool = False) -> dict[str, Any]:
        """``lazy``: a group kept on disk (the family run's, an :class:`OcidFlags` or a :class:`GroupFlags`)
        stays there, for a writer that reads it item by item (``procurement.flags_json``); else it is read
        into a dict."""
        shaped: dict[str, Any] = {g: v if lazy or not isinstance(v, StagedGroup) else dict(v.items())
                                  for g, v in self.results.items() if v}
        if self.transparency:
            shaped["Transparency"] = self.transparency
        if meta:
            shaped["Meta"] = self.meta
        return shaped


class Scorer:
    """Folds compiled releases one at a time; :meth:`finish` computes the outliers."""

    def __init__(self, settings: IndicatorSettings, spill: Path | None = None, flags: Path | None = None,
                 groups: Path | None = None) -> None:
        """``spill``: a staging file for the per-process tally of R024/R058 (``Outliers``), for callers whose
        compiled releases each have their own ocid (the family run); ``flags``: a staging folder where the
        ``OCID`` group is kept (:class:`OcidFlags`) rather than in memory; ``groups``: one where the
        organisation groups are, a SQLite file each (:class:`GroupFlags`), as they too grow with the data."""
        self.settings = settings
        self.scores = Scores(currency=settings.currency)
        if flags is not None:
            self.scores.results["OCID"] = OcidFlags(flags)  # type: ignore[assignment]
        if groups is not None:
            for group in GROUPS[1:]:
                self.scores.results[group] = GroupFlags(groups / f"{group}.sqlite")  # type: ignore[assignment]
        self.per_process = PerProcess(settings, self.scores)
        self.outliers = Outliers(settings, self.scores, spill)
        self.proact = ProAct(settings, self.scores) if settings.enabled - frozenset(CODES) else None
        self._reported: str | None = None  # the last ocid given a currency finding (one per process)
        #: The first currency finding, so that a run scored in parts (procurement.parallel) drops it when the
        #: part before ended on the same process, as one pass would have.
        self.first_currency: Finding | None = None

    def main_currency(self, value: Any, ocid: str) -> float | None:
        """A Value's amount when in the main currency (the configured one, else the first seen), else None
        with a ``currency-not-main`` finding."""
        if isinstance(value, dict):  # the common case, decided without building the (amount, currency) pair
            number, currency = value.get("amount"), value.get("currency")
            if (type(number) is float or type(number) is int) and currency == self.scores.currency \
                    and isinstance(currency, str):
                return float(number)
        found = c.amount(value)
        if found is None:
            return None
        number, currency = found
        if self.scores.currency is None and currency is not None:
            self.scores.currency = currency
        if currency is None or currency != self.scores.currency:
            if ocid == self._reported:
                return None
            self._reported = ocid  # one finding per process
            finding = Finding(
                "currency-not-main", f"ocid {ocid}: an amount in {currency or 'no currency'} is not in the main "
                f"currency {self.scores.currency}; set `currency` in the settings to choose the main one",
                ocid=ocid)
            if self.first_currency is None:
                self.first_currency = finding
            self.scores.findings.add(finding)
            return None
        return number

    def add(self, release: Any, line: int | None = None) -> None:
        if not isinstance(release, dict):
            self.scores.findings.add(Finding("malformed-line", "not a JSON object", line=line))
            return
        ocid = release.get("ocid")
        if not isinstance(ocid, str) or not ocid:
            where = f"line {line}" if line is not None else "a compiled release"
            self.scores.findings.add(Finding("missing-ocid", f"{where} has no ocid (a string); it is left out "
                                             "of every indicator", line=line))
            self.scores.exclude("missing-ocid")
            return
        self.scores.processes += 1
        if c.text(c.obj(release, "tender"), "status") == "cancelled":
            self.scores.exclude("cancelled")
            return
        details = c.method_details(release)
        if details is not None and details in self.settings.excluded_procurement_method_details:
            self.scores.exclude("procurement-method-details")
            return
        process = c.Process(ocid, release, self.main_currency)
        self.per_process.add(process)
        self.outliers.add(process)
        if self.proact is not None:
            self.proact.add(process, self.main_currency)

    def finish(self) -> Scores:
        self.outliers.finish()
        if self.proact is not None:
            self.proact.finish()
        for found in self.scores.results.values():
            if isinstance(found, (OcidFlags, GroupFlags)):
                found.close()
        return self.scores


def score(releases: Iterable[Any], settings: IndicatorSettings | None = None) -> Scores:
    scorer = Scorer(settings or IndicatorSettings())
    for release in releases:
        scorer.add(release)
    return scorer.finish()
