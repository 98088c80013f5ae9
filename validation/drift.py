"""Schema drift: a release's source columns and their types, compared with the previous release's.

Each run that publishes records its source columns in the catalog's ``source_columns`` table (never served;
a release names its run, so the next run finds them on any worker; installations from before kept them in
``HOME/private/source-columns/<dataset>/<run_id>.json``, still read). A run whose
source added, removed or retyped a column is blocked unless the job lists that kind of change in
``validation.allow_schema_changes``; an added column must also be named in the privacy policy, so a new
column never reaches the public unreviewed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, Field

Change = Literal["added", "removed", "retyped"]


class ColumnChange(BaseModel):
    change: Change
    column: str
    before: str | None = None
    after: str | None = None
    allowed: bool = False
    message: str


class SchemaDrift(BaseModel):
    previous_release: int | None = None
    columns: dict[str, str] = Field(default_factory=dict, description="this release's source column -> type")
    changes: list[ColumnChange] = Field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(not c.allowed for c in self.changes)

    @property
    def message(self) -> str:
        return "; ".join(c.message for c in self.changes if not c.allowed)


def _arrow_type(kind: pa.DataType) -> str | None:
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "number"
    if pa.types.is_timestamp(kind):
        return "datetime"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_time(kind):
        return "time"
    return None


def source_columns(table: pa.Table, table_schema: dict[str, Any]) -> dict[str, str]:
    """Each source column's type: the source's own (a database column's), else the type the job's Table
    Schema declares for it, else ``string``. Never guessed from values, so one bad cell is a validation
    error, not a retyped column."""
    declared = {f.get("name"): f.get("type") or "string" for f in table_schema.get("fields", [])
                if isinstance(f, dict)}
    return {name: _arrow_type(table.schema.field(name).type) or declared.get(name) or "string"
            for name in table.column_names}


def compare(previous: dict[str, str] | None, current: dict[str, str], allowed: list[str],
            covered: set[str], previous_release: int | None = None) -> SchemaDrift:
    changes: list[ColumnChange] = []
    if previous is not None:
        for name, kind in current.items():
            if name not in previous:
                ok = "added" in allowed and name in covered
                todo = ([] if "added" in allowed else ["add 'added' to validation.allow_schema_changes"]) + (
                    [] if name in covered else ["name it under privacy.columns"])
                changes.append(ColumnChange(change="added", column=name, after=kind, allowed=ok,
                                            message=f"source column '{name}' ({kind}) is new"
                                            + ("" if ok else "; to publish it, " + " and ".join(todo))))
            elif previous[name] != kind and "any" not in (previous[name], kind):  # "any": no evidence either way
                ok = "retyped" in allowed
                changes.append(ColumnChange(
                    change="retyped", column=name, before=previous[name], after=kind, allowed=ok,
                    message=f"source column '{name}' changed from {previous[name]} to {kind}"
                    + ("" if ok else "; add 'retyped' to validation.allow_schema_changes if that is intended")))
        for name, kind in previous.items():
            if name not in current:
                ok = "removed" in allowed
                changes.append(ColumnChange(
                    change="removed", column=name, before=kind, allowed=ok,
                    message=f"source column '{name}' ({kind}) is gone"
                    + ("" if ok else "; add 'removed' to validation.allow_schema_changes if that is intended")))
    # keep the last informative type of a column whose cells this time were all empty
    recorded = {n: previous[n] if previous and kind == "any" and n in previous else kind for n, kind in current.items()}
    return SchemaDrift(previous_release=previous_release, columns=recorded, changes=changes)


def read_source_columns(path: Path) -> dict[str, str] | None:
    if not path.is_file():
        return None
    columns: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))["columns"]
    return columns
