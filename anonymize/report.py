"""The privacy stage's typed results: the anonymised table and the privacy officer's report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, Field

FindingType = Literal[
    "uncovered-personal-data",
    "policy-column-missing",
    "k-anonymity-not-met",
    # added by the anonymisation stage; existing names above are a contract
    "uncovered-quasi-identifier",
    "uncovered-free-text",
    "quasi-identifier-missing",
    "quasi-identifier-dropped",
    "new-personal-data",
    "policy-changed",
    # added by the privacy engine (issue 3)
    "l-diversity-not-met",
    "sensitive-column-missing",
    "pseudonym-key-rotated",
    "pseudonym-key-changed",
    "personal-data-gone",
    # added by the privacy gate on real tables (issue 12)
    "column-not-in-policy",
]


class Detection(BaseModel):
    """One entity type found in one column."""

    entity: str = Field(description="EMAIL_ADDRESS, PHONE_NUMBER, PERSON, US_SSN, CREDIT_CARD, ...")
    source: Literal["name", "values", "text"] = Field(description="column name, sampled values or free text")
    count: int = Field(description="matching values (or findings in free text) in the sample")
    sampled: int = Field(description="non-empty values looked at")
    confidence: float = Field(ge=0, le=1)
    examples: list[str] = Field(default_factory=list, description="a few masked examples")


class Replacement(BaseModel):
    """One value before and after its action, masked: what a privacy officer checks redaction by."""

    before: str = Field(description="the source value with each replaced part masked (j***@e******.test)")
    after: str = Field(description="the published value")


class ColumnReport(BaseModel):
    name: str
    action: str = Field(description="the policy action applied; 'keep' when the policy does not name it")
    params: dict[str, Any] = Field(default_factory=dict)
    covered: bool = Field(description="whether the policy names this column")
    detections: list[Detection] = Field(default_factory=list)
    changed: int = Field(default=0, description="values the action changed")
    unparseable: int = Field(
        default=0, description="values generalize could not read, published as null (counted in changed too)"
    )
    replaced: dict[str, int] = Field(
        default_factory=dict, description="redact: entity -> findings replaced by its tag, over all rows"
    )
    examples: list[Replacement] = Field(default_factory=list, description="a few values before and after, masked")


class Finding(BaseModel):
    """A problem with the release's privacy; blocking findings stop publication."""

    type: FindingType
    column: str | None = None
    message: str
    blocking: bool = True


class RiskMeasure(BaseModel):
    records: int
    equivalence_classes: int
    smallest_class: int
    unique_records: int
    uniqueness: float = Field(description="share of records alone in their equivalence class")
    class_sizes: dict[str, int] = Field(default_factory=dict, description="class size -> number of classes")
    l_diversity: int | None = Field(
        default=None, description="fewest distinct values of a sensitive column in any class (None: no sensitive)"
    )
    records_below_k: int = Field(default=0, description="records in classes smaller than k")
    records_below_l: int = Field(default=0, description="records in classes with fewer than l sensitive values")


class RiskReport(BaseModel):
    quasi_identifiers: list[str]
    k: int
    before: RiskMeasure | None = None
    after: RiskMeasure | None = None
    generalised: RiskMeasure | None = Field(
        default=None, description="after the policy's actions (generalisation), before any record was suppressed"
    )
    suppressed_records: int = 0
    l: int = 1  # noqa: E741 - the name the literature uses (l-diversity)
    sensitive: list[str] = Field(default_factory=list)
    on_k_violation: Literal["suppress", "block"] = "suppress"


class PrivacyReport(BaseModel):
    dataset: str
    run_id: str
    policy_hash: str
    policy: dict[str, Any] | None = Field(
        default=None, description="the job's privacy section as the steward wrote it (keys given, no defaults)"
    )
    created_at: str
    rows_in: int
    rows_out: int
    columns: list[ColumnReport]
    findings: list[Finding] = Field(default_factory=list)
    risk: RiskReport | None = None
    pseudonym_key_id: str | None = Field(
        default=None, description="id of the pseudonym key (a hash of it, never the key); changes on rotation"
    )
    changed_by_action: dict[str, int] = Field(
        default_factory=dict, description="action -> values it changed, over all columns"
    )
    previous_run_id: str | None = Field(default=None, description="run of the release this one is compared with")

    @property
    def blocked(self) -> bool:
        return any(f.blocking for f in self.findings)

    def flatten(self, keys: list[str]) -> list[list[Any]]:
        """Findings as rows of the given keys (frictionless's report.flatten, for readable tests)."""
        return [[getattr(f, k) for k in keys] for f in self.findings]


@dataclass(frozen=True)
class AnonymizedTable:
    """The table after the policy ran: only columns that may be published, still as text."""

    dataset: str
    run_id: str
    table: pa.Table
