"""Publisher job files: ``datasets/<agency>/<dataset>.yaml``.

The keys here are a contract other tools rely on: extend, never rename. A file with a wrong key, a wrong
type or a missing file is refused with a :class:`JobFileError` naming the file, the key and what is
expected.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from opendata.errors import JobFileError

SLUG = r"^[a-z0-9][a-z0-9-]{0,79}$"
ACTIONS = ("keep", "drop", "redact", "mask", "pseudonymize", "generalize", "suppress")
GENERALIZE_METHODS = ("round", "date", "hour", "bins", "band", "prefix")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CsvSource(_Strict):
    type: Literal["csv"]
    path: str = Field(description="CSV file, relative to the job file.")
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8"


class SqlSource(_Strict):
    type: Literal["sql"]
    url: str = Field(description="sqlite:///relative/or/absolute.db or postgresql://user@host/db")
    query: str | None = None
    table: str | None = None

    @model_validator(mode="after")
    def _one_of_query_or_table(self) -> SqlSource:
        if (self.query is None) == (self.table is None):
            raise ValueError("give exactly one of 'query' or 'table'")
        if not (self.url.startswith("sqlite:///") or self.url.startswith(("postgresql://", "postgres://"))):
            raise ValueError("url must start with sqlite:/// or postgresql://")
        return self


Source = Annotated[CsvSource | SqlSource, Field(discriminator="type")]


class ColumnRule(_Strict):
    """One column's anonymisation: an action and its parameters."""

    action: Literal["keep", "drop", "redact", "mask", "pseudonymize", "generalize", "suppress"]
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_yaml_shape(cls, value: Any) -> Any:
        # YAML gives either "drop" or {generalize: round, digits: 3} or {mask: {keep_last: 4}}.
        if isinstance(value, str):
            return {"action": value}
        if isinstance(value, dict) and "action" not in value:
            actions = [k for k in value if k in ACTIONS]
            if len(actions) != 1:
                raise ValueError(f"name exactly one action of {', '.join(ACTIONS)}; got {sorted(value)}")
            action = actions[0]
            head = value[action]
            params = {k: v for k, v in value.items() if k != action}
            if isinstance(head, dict):
                params.update(head)
            elif head is not None and head is not True:
                params["method" if action == "generalize" else "value"] = head
            return {"action": action, "params": params}
        return value

    @model_validator(mode="after")
    def _check_params(self) -> ColumnRule:
        if self.action == "generalize":
            method = self.params.get("method")
            if method not in GENERALIZE_METHODS:
                raise ValueError(f"generalize needs a method, one of {', '.join(GENERALIZE_METHODS)}")
        if self.action == "mask":
            keep = self.params.get("keep_last", self.params.get("value", 4))
            if not isinstance(keep, int) or keep < 0:
                raise ValueError("mask keep_last must be a non-negative integer")
        return self


class PrivacyPolicy(_Strict):
    columns: dict[str, ColumnRule] = Field(default_factory=dict)
    quasi_identifiers: list[str] = Field(default_factory=list)
    k: int = Field(default=1, ge=1, description="Smallest equivalence class size over quasi-identifiers.")
    requires_approval: bool = False


class Job(_Strict):
    name: str = Field(pattern=SLUG)
    title: str = Field(min_length=1)
    description: str = ""
    organization: str = Field(pattern=SLUG)
    organization_title: str | None = None
    license: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    schedule: str | None = None
    timezone: str = "UTC"
    homepage: str | None = None
    frequency: str | None = None
    source: Source
    schema_: str = Field(alias="schema", description="Table Schema JSON, relative to the job file.")
    privacy: PrivacyPolicy = Field(default_factory=PrivacyPolicy)

    # Set by load_job: where the file lives, and the parsed Table Schema.
    path: Path = Field(default=Path("."), exclude=True)
    table_schema: dict[str, Any] = Field(default_factory=dict, exclude=True)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("schedule")
    @classmethod
    def _cron_shape(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) != 5:
            raise ValueError("schedule must be a five-field cron expression such as '0 3 * * *'")
        return value

    @property
    def folder(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.folder / candidate

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.table_schema.get("fields", [])]


def _expand_env(value: Any) -> Any:
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: os.environ.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_expand_env(v) for v in value]
    if isinstance(value, dict):
        return {k: _expand_env(v) for k, v in value.items()}
    return value


def _describe(error: Any) -> str:
    key = ".".join(str(p) for p in error["loc"] if not str(p).startswith("function-")) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    if error["type"] == "missing":
        return f"{key}: required key is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    given = error.get("input")
    shown = "" if isinstance(given, dict | list) or given is None else f" (got {given!r})"
    return f"{key}: {message}{shown}"


def load_job(path: str | Path) -> Job:
    """Read, check and resolve one job file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise JobFileError(path, ["file does not exist"]) from None
    except yaml.YAMLError as exc:
        raise JobFileError(path, [f"not valid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise JobFileError(path, ["expected a mapping of keys (name, title, source, schema, ...)"])
    try:
        job = Job.model_validate(_expand_env(raw)).model_copy(update={"path": path.resolve()})
    except ValidationError as exc:
        raise JobFileError(path, [_describe(e) for e in exc.errors()]) from None

    problems: list[str] = []
    schema_path = job.resolve(job.schema_)
    table_schema: dict[str, Any] = {}
    try:
        table_schema = json.loads(schema_path.read_text(encoding="utf-8"))
        if not isinstance(table_schema.get("fields"), list):
            problems.append(f"schema: {schema_path} has no 'fields' list (a Frictionless Table Schema)")
    except FileNotFoundError:
        problems.append(f"schema: file {schema_path} does not exist")
    except json.JSONDecodeError as exc:
        problems.append(f"schema: {schema_path} is not valid JSON ({exc})")
    if isinstance(job.source, CsvSource) and not job.resolve(job.source.path).is_file():
        problems.append(f"source.path: file {job.resolve(job.source.path)} does not exist")
    if isinstance(job.source, SqlSource) and job.source.url.startswith("sqlite:///"):
        db = job.resolve(job.source.url.removeprefix("sqlite:///"))
        if not db.is_file():
            problems.append(f"source.url: SQLite database {db} does not exist")
    if problems:
        raise JobFileError(path, problems)
    return job.model_copy(update={"table_schema": table_schema})


def discover_jobs(folder: str | Path) -> list[Path]:
    """Every job file under a folder, in a stable order."""
    return sorted(p for p in Path(folder).rglob("*.yaml") if p.is_file())
