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
from publishers.job_metadata import ContactPointSpec, TemporalCoverageSpec, check_themes, contact_address, http_url

SLUG = r"^[a-z0-9][a-z0-9-]{0,79}$"
ACTIONS = ("keep", "drop", "redact", "mask", "pseudonymize", "generalize", "suppress")
GENERALIZE_METHODS = ("round", "date", "hour", "bins", "band", "prefix", "grid")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _FileOrUrl(_Strict):
    """A file source: a local ``path`` (relative to the job file) or an HTTP(S) ``url``, exactly one."""

    path: str | None = Field(default=None, description="File, relative to the job file.")
    url: str | None = Field(default=None, description="http:// or https:// address of the file.")
    headers: dict[str, str] = Field(default_factory=dict, description="HTTP request headers; use ${VAR}.")
    timeout: float = Field(default=60.0, gt=0, description="Seconds to wait for the server (transient past it).")

    @model_validator(mode="after")
    def _one_of_path_or_url(self) -> _FileOrUrl:
        if (self.path is None) == (self.url is None):
            raise ValueError("give exactly one of 'path' or 'url'")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return self


class CsvSource(_FileOrUrl):
    type: Literal["csv"]
    delimiter: str = Field(default=",", min_length=1, max_length=4, description="one character, or 'auto'")
    encoding: str = Field(default="utf-8", description="a Python codec name, or 'auto'")
    header: bool | Literal["auto"] = Field(default=True, description="first row names the columns")
    columns: list[str] | None = Field(default=None, description="column names, when the file has no header")

    @model_validator(mode="after")
    def _delimiter_shape(self) -> CsvSource:
        if len(self.delimiter) != 1 and self.delimiter != "auto":
            raise ValueError("delimiter must be one character or 'auto'")
        return self


class ExcelSource(_FileOrUrl):
    type: Literal["excel"]
    sheet: str | int = Field(default=0, description="sheet name, or its 0-based position")
    header_row: int = Field(default=1, ge=1, description="1-based row that names the columns")


class JsonLinesSource(_FileOrUrl):
    type: Literal["jsonl"]
    columns: list[str] | None = Field(default=None, description="columns to keep (default: keys of the first rows)")


class HttpPagination(_Strict):
    style: Literal["none", "link", "page", "cursor", "offset"] = "none"
    page_param: str = "page"
    first_page: int = 1
    size_param: str | None = Field(default=None, description="page size parameter (offset style: default 'limit')")
    page_size: int | None = Field(default=None, ge=1)
    cursor_param: str = "cursor"
    cursor_path: str = Field(default="next", description="dotted path of the next cursor in the body")
    offset_param: str = Field(default="offset", description="offset style: the parameter of the first row's offset")
    first_offset: int = Field(default=0, ge=0)
    total_path: str | None = Field(
        default=None, description="dotted path or JSONPath of the total row count in the body; checked at the end"
    )
    max_pages: int = Field(default=10_000, ge=1)

    @model_validator(mode="after")
    def _offset_needs_a_size(self) -> HttpPagination:
        if self.style == "offset" and self.page_size is None:
            raise ValueError("offset pagination needs page_size (the rows asked for per request)")
        if self.total_path is not None:
            _check_path(self.total_path)
        return self


def _check_path(text: str) -> None:
    from publishers.sources.json_path import compile_path

    compile_path(text)


class HttpJsonSource(_Strict):
    type: Literal["http_json"]
    url: str = Field(description="http:// or https:// address of the first page")
    headers: dict[str, str] = Field(default_factory=dict, description="request headers; secrets as ${VAR}")
    params: dict[str, str] = Field(default_factory=dict)
    records: str | None = Field(
        default=None, description="where the records are: a dotted path (result.records) or a JSONPath ($.features[*])"
    )
    columns: list[str] | dict[str, str] | None = Field(
        default=None, description="keys to keep (a list), or column name -> JSONPath in each record (a mapping)"
    )
    pagination: HttpPagination = Field(default_factory=HttpPagination)
    timeout: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _paths_parse(self) -> HttpJsonSource:
        if self.records is not None:
            _check_path(self.records)
        if isinstance(self.columns, dict):
            if not self.columns:
                raise ValueError("columns: give at least one column")
            for name, path in self.columns.items():
                try:
                    _check_path(path)
                except ValueError as exc:
                    raise ValueError(f"columns.{name}: {exc}") from None
        return self


class CkanDatastoreSource(_Strict):
    """Every row of one CKAN DataStore resource, read with datastore_search to the end, total checked."""

    type: Literal["ckan_datastore"]
    url: str = Field(description="the CKAN site, e.g. https://data.example.gov (the Action API is under /api/3)")
    resource_id: str = Field(min_length=1, description="the DataStore resource id")
    headers: dict[str, str] = Field(default_factory=dict, description="request headers (Authorization: ${VAR})")
    page_size: int = Field(default=5000, ge=1, le=32000, description="rows per datastore_search request")
    method: Literal["search", "sql"] = Field(
        default="search", description="search: datastore_search paged by offset; sql: datastore_search_sql"
    )
    timeout: float = Field(default=60.0, gt=0)
    attempts: int = Field(default=4, ge=1, le=20, description="tries per request for 5xx answers and timeouts")
    backoff_seconds: float = Field(default=1.0, ge=0, description="wait before the 2nd try of a request; doubles")

    @model_validator(mode="after")
    def _url_shape(self) -> CkanDatastoreSource:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return self


class ParquetSource(_FileOrUrl):
    """A Parquet file: its columns as text (ISO dates and times), read a row group at a time."""

    type: Literal["parquet"]


class CapAtomSource(_FileOrUrl):
    """An Atom feed of CAP alerts (the NWS index) or one CAP 1.1/1.2 alert: one row per alert info."""

    type: Literal["cap_atom"]


class GtfsSource(_FileOrUrl):
    """One file (``stops.txt``, ``trips.txt``, ...) of a GTFS static zip feed."""

    type: Literal["gtfs"]
    file: str = Field(pattern=r"^[a-z_]+\.txt$", description="member of the zip, e.g. stops.txt")


OCDS_TABLES = ("processes", "tenders", "lots", "items", "bids", "awards", "contracts", "transactions", "parties")


class OcdsPaging(_Strict):
    """An OCDS API that pages its packages: the next page's URL is at ``next_path`` in each package."""

    next_path: str = Field(default="links.next", description="dotted path of the next page's URL in a package")
    max_pages: int = Field(default=10_000, ge=1)


class OcdsSource(_Strict):
    """Open Contracting Data Standard releases: release or record packages, JSON lines or concatenated JSON,
    from local files or HTTP(S) (paged), published as a family of linked tables (docs/procurement.md)."""

    type: Literal["ocds"]
    path: str | list[str] | None = Field(default=None, description="file(s), relative to the job file")
    url: str | None = Field(default=None, description="http:// or https:// address of the (first) package")
    headers: dict[str, str] = Field(default_factory=dict, description="HTTP request headers; use ${VAR}.")
    timeout: float = Field(default=60.0, gt=0)
    paging: OcdsPaging | None = Field(default=None, description="follow each package's next-page link")
    encoding: str = Field(default="auto", description="a Python codec name, or 'auto' (UTF-8, else ISO-8859-1)")
    tables: list[Literal[OCDS_TABLES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(OCDS_TABLES), description="tables of the family to publish")
    indicators: str | None = Field(default=None, description="Cardinal settings (INI), relative to the job file")
    person_schemes: list[str] = Field(
        default_factory=list, description="identifier schemes whose numbers are people's, beyond the built-in "
        "ones (procurement/people.py): such parties are published as people")
    table: str | None = Field(default=None, exclude=True, description="set by the family run, never in a file")

    @model_validator(mode="after")
    def _one_of_path_or_url(self) -> OcdsSource:
        if (self.path is None) == (self.url is None):
            raise ValueError("give exactly one of 'path' or 'url'")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return self

    @property
    def paths(self) -> list[str]:
        return [] if self.path is None else [self.path] if isinstance(self.path, str) else list(self.path)


class SqlSource(_Strict):
    type: Literal["sql"]
    url: str = Field(description="sqlite:///relative/or/absolute.db or postgresql://user@host/db")
    query: str | None = None
    table: str | None = None
    chunk_rows: int = Field(default=50_000, ge=100, description="rows fetched per round trip")

    @model_validator(mode="after")
    def _one_of_query_or_table(self) -> SqlSource:
        if (self.query is None) == (self.table is None):
            raise ValueError("give exactly one of 'query' or 'table'")
        if not (self.url.startswith("sqlite:///") or self.url.startswith(("postgresql://", "postgres://"))):
            raise ValueError("url must start with sqlite:/// or postgresql://")
        return self


Source = Annotated[
    CsvSource | SqlSource | ExcelSource | JsonLinesSource | HttpJsonSource | CapAtomSource | GtfsSource
    | CkanDatastoreSource | ParquetSource | OcdsSource,
    Field(discriminator="type"),
]


class Incremental(_Strict):
    """Pull only rows whose ``cursor`` column is past the last successful run's highest value."""

    cursor: str = Field(description="column that only grows: updated_at, an id")
    release: Literal["full", "increment"] = Field(
        default="full", description="full: previous release plus new and changed rows; increment: new rows only"
    )
    primary_key: list[str] | None = Field(default=None, description="default: the Table Schema's primaryKey")


class Retries(_Strict):
    attempts: int = Field(default=3, ge=1, le=20, description="tries in all, for transient failures only")
    backoff_seconds: float = Field(default=30.0, ge=0, description="wait before the 2nd try; doubles after")
    max_backoff_seconds: float = Field(default=900.0, ge=0)


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
        if self.action == "redact" and "entities" in self.params:
            entities = self.params["entities"]
            if not isinstance(entities, list) or not entities or not all(isinstance(e, str) for e in entities):
                raise ValueError("redact entities must be a list of entity names, such as [PERSON, PHONE_NUMBER]")
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
    l: int = Field(  # noqa: E741 - the name the literature uses (l-diversity)
        default=1, ge=1, description="Distinct values of each sensitive column every equivalence class must hold."
    )
    sensitive: list[str] = Field(default_factory=list, description="Sensitive columns l-diversity is measured on.")
    on_k_violation: Literal["suppress", "block"] = Field(
        default="suppress",
        description="Records in classes below k (or below l): suppress them (counted), or block the release.",
    )
    columns_required: Literal["all"] | None = Field(
        default=None,
        description="all: every source column must be named in privacy.columns (keep being a decision); an "
        "unnamed one blocks the release.",
    )


class PointColumns(_Strict):
    """A Point geometry column made of two numeric columns (``publish.points``)."""

    latitude: str
    longitude: str


class PublishOptions(_Strict):
    """How a release's Parquet is laid out for the API."""

    points: dict[str, PointColumns] = Field(
        default_factory=dict,
        description="New Point geometry columns (served as GeoJSON, filtered by near/bbox/contains): "
        "column name -> its latitude and longitude columns.",
    )

    sort_by: list[str] = Field(
        default_factory=list,
        description="Columns to sort each release by (the API's common filter columns, so Parquet row-group "
        "statistics skip what a filter cannot match); default: the schema's primaryKey.",
    )

    when_unchanged: Literal["skip", "publish"] = Field(
        default="skip",
        description="A run whose data, schema and privacy policy equal the latest release's: skip records the run "
        "'unchanged' and publishes nothing; publish makes a new numbered release anyway.",
    )


class ValidationOptions(_Strict):
    """What a run does with rows that fail the Table Schema, and which schema changes it may publish."""

    on_error: Literal["block", "quarantine_rows"] = Field(
        default="block",
        description="block: quarantine the whole release; quarantine_rows: publish the valid rows and keep the "
        "invalid ones, with their errors, in the private quarantine folder.",
    )
    allow_schema_changes: list[Literal["added", "removed", "retyped"]] = Field(
        default_factory=list,
        description="Source column changes since the previous release that may publish; others block the run.",
    )


class Job(_Strict):
    name: str = Field(pattern=SLUG)
    title: str = Field(min_length=1)
    description: str = ""
    organization: str = Field(pattern=SLUG)
    organization_title: str | None = None
    organization_description: str | None = Field(default=None, description="what the organisation does (its page)")
    organization_contact: str | None = Field(default=None, description="an e-mail address or http(s) URL")
    organization_website: str | None = Field(default=None, description="the organisation's http(s) website")
    transfer_from: str | None = Field(
        default=None, description="the organisation the dataset moves from (the one transfer a job file may make)"
    )
    license: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    schedule: str | None = None
    timezone: str = "UTC"
    homepage: str | None = None
    frequency: str | None = None
    contact_point: ContactPointSpec | None = None
    spatial: list[str] = Field(default_factory=list, description="URIs of the places covered")
    temporal_coverage: TemporalCoverageSpec | None = None
    theme: list[str] = Field(default_factory=list, description="EU data theme codes (ENVI, TRAN, ...)")
    source: Source
    schema_: str | None = Field(default=None, alias="schema", description="Table Schema JSON, relative to the "
                                "job file (required, except for an ocds source: its tables' schemas are built in)")
    privacy: PrivacyPolicy = Field(default_factory=PrivacyPolicy)
    incremental: Incremental | None = None
    timeout: float | None = Field(default=None, gt=0, description="seconds before a run is killed")
    retries: Retries = Field(default_factory=Retries)
    publish: PublishOptions = Field(default_factory=PublishOptions)
    validation: ValidationOptions = Field(default_factory=ValidationOptions)

    # Set by load_job: where the file lives, and the parsed Table Schema.
    path: Path = Field(default=Path("."), exclude=True)
    table_schema: dict[str, Any] = Field(default_factory=dict, exclude=True)
    secrets: tuple[str, ...] = Field(default=(), exclude=True, repr=False)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("schedule")
    @classmethod
    def _cron_shape(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) != 5:
            raise ValueError("schedule must be a five-field cron expression such as '0 3 * * *'")
        if value is not None:
            from croniter import croniter

            if not croniter.is_valid(value):
                raise ValueError("schedule is not a valid cron expression (minute hour day month weekday)")
        return value

    @field_validator("homepage")
    @classmethod
    def _http_homepage(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value, "homepage")

    @field_validator("organization_website")
    @classmethod
    def _http_website(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value, "organization_website")

    @field_validator("organization_contact")
    @classmethod
    def _contact(cls, value: str | None) -> str | None:
        return None if value is None else contact_address(value, "organization_contact")

    @field_validator("spatial", "theme", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("spatial")
    @classmethod
    def _spatial_uris(cls, values: list[str]) -> list[str]:
        return [http_url(v, "spatial") for v in values]

    @field_validator("theme")
    @classmethod
    def _eu_themes(cls, values: list[str]) -> list[str]:
        return check_themes(values)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("timezone must be an IANA time zone such as 'America/New_York' or 'UTC'") from None
        return value

    def __repr__(self) -> str:
        return self.redact(super().__repr__())

    def __str__(self) -> str:
        return self.redact(super().__str__())

    def redact(self, text: str) -> str:
        """``text`` with every secret this job read from the environment replaced by ``***``."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    @property
    def folder(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.folder / candidate

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.table_schema.get("fields", [])]


def _expand_env(value: Any, used: set[str] | None = None) -> Any:
    if isinstance(value, str):
        def substitute(match: re.Match[str]) -> str:
            found = os.environ.get(match.group(1))
            if found is None:
                return match.group(0)
            if used is not None and found:
                used.add(found)
            return found

        return _ENV_REF.sub(substitute, value)
    if isinstance(value, list):
        return [_expand_env(v, used) for v in value]
    if isinstance(value, dict):
        return {k: _expand_env(v, used) for k, v in value.items()}
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
    except IsADirectoryError:
        raise JobFileError(path, ["is a folder: name a job file (.yaml), or use `opendata run --all FOLDER`"]) from None
    except UnicodeDecodeError as exc:
        raise JobFileError(path, [f"not UTF-8 text ({exc.reason} at byte {exc.start}): is it a job file?"]) from None
    except OSError as exc:
        raise JobFileError(path, [f"cannot be read: {exc.strerror or exc}"]) from None
    except yaml.YAMLError as exc:
        raise JobFileError(path, [f"not valid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise JobFileError(path, ["expected a mapping of keys (name, title, source, schema, ...)"])
    used: set[str] = set()
    try:
        expanded = _expand_env(raw, used)
        job = Job.model_validate(expanded).model_copy(
            update={"path": path.resolve(), "secrets": tuple(sorted(used, key=len, reverse=True))}
        )
    except ValidationError as exc:
        secrets = sorted(used, key=len, reverse=True)
        described = [_describe(e) for e in exc.errors()]
        for secret in secrets:
            described = [p.replace(secret, "***") for p in described]
        raise JobFileError(path, described) from None

    problems: list[str] = []
    table_schema: dict[str, Any] = {}
    if isinstance(job.source, OcdsSource):
        problems += [f"source.path: file {job.resolve(p)} does not exist" for p in job.source.paths
                     if not job.resolve(p).is_file()]
        if job.source.indicators is not None and not job.resolve(job.source.indicators).is_file():
            problems.append(f"source.indicators: file {job.resolve(job.source.indicators)} does not exist")
        if job.schema_ is not None:
            problems.append("schema: an ocds source publishes tables with built-in schemas; remove this key")
        if job.incremental is not None:
            problems.append("incremental: not supported for an ocds source (each run merges every release)")
    elif job.schema_ is None:
        problems.append("schema: required key is missing (a Table Schema JSON file, relative to the job file)")
    else:
        schema_path = job.resolve(job.schema_)
        try:
            table_schema = json.loads(schema_path.read_text(encoding="utf-8"))
            if not isinstance(table_schema.get("fields"), list):
                problems.append(f"schema: {schema_path} has no 'fields' list (a Frictionless Table Schema)")
        except FileNotFoundError:
            problems.append(f"schema: file {schema_path} does not exist")
        except json.JSONDecodeError as exc:
            problems.append(f"schema: {schema_path} is not valid JSON ({exc})")
    if isinstance(job.source, _FileOrUrl) and job.source.path is not None:
        if not job.resolve(job.source.path).is_file():
            problems.append(f"source.path: file {job.resolve(job.source.path)} does not exist")
    if isinstance(job.source, SqlSource) and job.source.url.startswith("sqlite:///"):
        db = job.resolve(job.source.url.removeprefix("sqlite:///"))
        if not db.is_file():
            problems.append(f"source.url: SQLite database {db} does not exist")
    schema_columns = [f.get("name") for f in table_schema.get("fields", []) if isinstance(f, dict)]
    for column in job.publish.sort_by:
        if schema_columns and column not in schema_columns:
            known = ", ".join(map(str, schema_columns))
            problems.append(f"publish.sort_by: '{column}' is not a column of the schema ({known})")
    numeric = {f.get("name") for f in table_schema.get("fields", []) if f.get("type") in ("number", "integer")}
    for name, point in job.publish.points.items():
        if name in schema_columns:
            problems.append(f"publish.points: '{name}' is already a column of the schema; name the point otherwise")
        for column in (point.latitude, point.longitude):
            if schema_columns and column not in numeric:
                problems.append(f"publish.points.{name}: '{column}' is not a number or integer column of the schema")
    if problems:
        raise JobFileError(path, problems)
    return job.model_copy(update={"table_schema": table_schema})


def discover_jobs(folder: str | Path) -> list[Path]:
    """Every job file under a folder, in a stable order (harvest files, ``*.harvest.yaml``, are not jobs)."""
    return sorted(p for p in Path(folder).rglob("*.yaml") if p.is_file() and not p.name.endswith(".harvest.yaml"))
