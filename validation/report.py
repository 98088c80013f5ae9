"""The validation stage's typed result, in frictionless's vocabulary."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ValidationError(BaseModel):
    """One error, with frictionless's stable kebab-case ``type`` and its numbering.

    ``rowNumber`` counts the header row as 1; label errors have no row number.
    """

    type: str
    rowNumber: int | None = None  # noqa: N815 - frictionless's field name
    fieldNumber: int | None = None  # noqa: N815
    fieldName: str | None = None  # noqa: N815
    cell: Any = None
    message: str


class ErrorCount(BaseModel):
    """How often one error type occurs in one field (row-level errors have no field), and where first."""

    type: str
    fieldName: str | None = None  # noqa: N815
    count: int
    firstRows: list[int] = Field(default_factory=list)  # noqa: N815


class ValidationReport(BaseModel):
    valid: bool
    stats: dict[str, int] = Field(default_factory=dict, description="rows, fields, errors")
    errors: list[ValidationError] = Field(default_factory=list)
    counts: list[ErrorCount] = Field(
        default_factory=list, description="every error counted by type and field; `errors` lists the first ones"
    )
    source_findings: dict[str, Any] | None = Field(
        default=None, description="findings of the source's own checks that do not block the release (an OCDS "
        "source: schema errors, malformed lines, releases without ocid), counted, with the first ones")

    def flatten(self, keys: list[str]) -> list[list[Any]]:
        return [[getattr(e, k) for k in keys] for e in self.errors]
