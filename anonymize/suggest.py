"""A proposed privacy policy from what detection finds: the starting point a steward reviews.

Every column gets a decision, ``keep`` included, so the proposal can be used with
``privacy.columns_required: all``. Each entry carries why it was proposed (what detection found, with
masked examples); nothing from the source is shown as it is.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from pydantic import BaseModel, Field

from anonymize.detect_columns import detect_table, sample_rows
from anonymize.findings import describe
from anonymize.recognizers import PERSONAL, QUASI
from anonymize.report import Detection
from anonymize.text_engine import TextEngine, text_engine
from opendata.settings import Settings

#: The action proposed for a column holding each entity (the strongest wins: drop > redact > ... > keep).
ACTION_FOR: dict[str, Any] = {
    "PERSON": "drop", "EMAIL_ADDRESS": "pseudonymize", "PHONE_NUMBER": "drop", "US_SSN": "drop",
    "NATIONAL_ID": "drop", "CREDIT_CARD": "drop", "IBAN_CODE": "drop", "IP_ADDRESS": "drop",
    "STREET_ADDRESS": "drop", "VEHICLE_PLATE": "drop", "USERNAME": "pseudonymize",
    "DATE_OF_BIRTH": {"generalize": "band", "width": 10},
    "POSTCODE": {"generalize": "prefix", "length": 3},
    "COORDINATE": {"generalize": "round", "digits": 2},
}
_STRENGTH = ["keep", "generalize", "pseudonymize", "redact", "drop"]


class ColumnSuggestion(BaseModel):
    column: str
    rule: Any = Field(description="the proposed action, as a job file writes it")
    why: str


class PolicySuggestion(BaseModel):
    columns: list[ColumnSuggestion]
    quasi_identifiers: list[str] = Field(default_factory=list)
    rows_sampled: int

    @property
    def k(self) -> int:
        """5 where the table is large enough for classes of 5 (one in twenty rows), less on small tables."""
        return max(1, min(5, self.rows_sampled // 20))

    def policy(self) -> dict[str, Any]:
        """The ``privacy:`` block of a job file."""
        block: dict[str, Any] = {"columns_required": "all", "columns": {c.column: c.rule for c in self.columns}}
        if self.quasi_identifiers:
            block["quasi_identifiers"] = self.quasi_identifiers
            if self.k > 1:
                block["k"] = self.k
        block["requires_approval"] = True
        return block

    def yaml(self) -> str:
        lines = ["privacy:", "  columns_required: all  # every column needs a decision; keep is one", "  columns:"]
        for c in self.columns:
            lines.append(f"    {_yaml_key(c.column)}: {_yaml_rule(c.rule)}  # {c.why}")
        if self.quasi_identifiers:
            lines.append(f"  quasi_identifiers: [{', '.join(_yaml_key(q) for q in self.quasi_identifiers)}]")
            if self.k > 1:
                lines.append(f"  k: {self.k}  # records in smaller classes over the quasi-identifiers are suppressed")
        lines.append("  requires_approval: true  # a privacy officer reviews the first releases")
        return "\n".join(lines) + "\n"


def suggest_policy(table: pa.Table, settings: Settings) -> PolicySuggestion:
    """Detection on an evenly spread sample of ``table``, turned into a proposed action per column."""
    sample = sample_rows(table, settings.detection_sample_rows)

    def engine() -> TextEngine:
        return text_engine(settings.spacy_model)

    columns: list[ColumnSuggestion] = []
    quasi: list[str] = []
    for name, detections in detect_table(sample, engine).items():
        rule, why = _propose(detections)
        columns.append(ColumnSuggestion(column=name, rule=rule, why=why))
        if any(d.entity in QUASI or d.entity == "DATE_OF_BIRTH" for d in detections) and rule != "drop":
            quasi.append(name)
    return PolicySuggestion(columns=columns, quasi_identifiers=quasi, rows_sampled=sample.num_rows)


def _propose(detections: list[Detection]) -> tuple[Any, str]:
    personal = [d for d in detections if d.entity in PERSONAL]
    texty = any(d.entity == "FREE_TEXT" for d in detections)
    if not personal:
        if texty:
            return "redact", "free text; nothing personal in the sample, but free text can name people"
        return "keep", "nothing personal found in the sample; review"
    found = "; ".join(describe(d) for d in personal)
    if texty:
        return "redact", f"free text with {found}"
    rules = [ACTION_FOR.get(d.entity, "drop") for d in personal]
    strongest = max(rules, key=lambda r: _STRENGTH.index(r if isinstance(r, str) else next(iter(r))))
    return strongest, found


def _yaml_key(name: str) -> str:
    plain = name.replace("_", "").replace("-", "").isalnum() and not name[:1].isdigit()
    return name if plain else '"' + name.replace('"', '\\"') + '"'


def _yaml_rule(rule: Any) -> str:
    if isinstance(rule, str):
        return rule
    return "{" + ", ".join(f"{k}: {v}" for k, v in rule.items()) + "}"
