"""Data problems met while reading or scoring procurement data: findings, never exceptions.

Each has a stable kebab-case ``type``. A bounded list keeps the first examples; ``counts`` keeps them all.
Findings name a line number or an ``ocid`` (an identifier the publisher made public), never a source value.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

KEPT = 200

TITLES = {
    "malformed-line": "A line is not a JSON object",
    "missing-ocid": "A release or compiled release has no ocid",
    "currency-not-main": "A monetary value is not in the main currency, so it is left out of price comparisons",
    "not-ocds": "A JSON text is neither a release, a record, a release package nor a record package",
    "schema-error": "A compiled release does not follow the OCDS 1.1 release schema",
}


@dataclass(frozen=True)
class Finding:
    type: str
    message: str
    line: int | None = None
    ocid: str | None = None

    def as_dict(self) -> dict[str, object]:
        found: dict[str, object] = {"type": self.type, "title": TITLES.get(self.type, self.type),
                                    "message": self.message}
        if self.line is not None:
            found["line"] = self.line
        if self.ocid is not None:
            found["ocid"] = self.ocid
        return found


@dataclass
class Findings:
    kept: list[Finding] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, finding: Finding) -> None:
        self.counts[finding.type] += 1
        if len(self.kept) < KEPT:
            self.kept.append(finding)

    def __len__(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, object]:
        return {"counts": dict(self.counts), "first": [f.as_dict() for f in self.kept]}
