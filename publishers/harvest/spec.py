"""Harvest job files: ``<name>.harvest.yaml`` beside the publisher jobs, run on a schedule like them.

    name: city-portal                  # slug; the run history is kept under it
    kind: ckan                         # ckan | dcat
    url: https://data.example.gov      # the CKAN site, or the DCAT catalog document
    organization: parks                # ckan only: one organisation's packages
    query: "tags:transport"            # ckan only: a package_search query
    api_key: ${CKAN_API_KEY}           # ckan only: for private packages (from the environment)
    into: .                            # folder for the job files, relative to this file
    schedule: "0 2 * * *"              # five-field cron, in `timezone`
    timezone: UTC
    timeout: 1800                      # seconds before the harvest is killed (no hung harvest)
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from opendata.errors import JobFileError
from publishers.job import SLUG, Job, _describe, _expand_env

SUFFIX = ".harvest.yaml"


class HarvestSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=SLUG)
    kind: Literal["ckan", "dcat"]
    url: str = Field(pattern=r"^https?://")
    organization: str | None = None
    query: str | None = None
    api_key: str | None = Field(default=None, repr=False)
    into: str = "."
    schedule: str | None = None
    timezone: str = "UTC"
    timeout: float = Field(default=1800.0, gt=0)
    path: Path = Field(default=Path("."), exclude=True)

    @field_validator("schedule")
    @classmethod
    def _cron_shape(cls, value: str | None) -> str | None:
        return Job._cron_shape(value)  # the same check as a publisher job's

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return Job._known_zone(value)

    @property
    def folder(self) -> Path:
        target = Path(self.into)
        return target if target.is_absolute() else self.path.parent / target


def is_harvest_file(path: Path) -> bool:
    return path.name.endswith(SUFFIX)


def load_harvest(path: str | Path) -> HarvestSpec:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise JobFileError(path, ["file does not exist"]) from None
    except yaml.YAMLError as exc:
        raise JobFileError(path, [f"not valid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise JobFileError(path, ["expected a mapping of keys (name, kind, url, schedule, ...)"])
    try:
        return HarvestSpec.model_validate({**_expand_env(raw), "path": path.resolve()})
    except ValidationError as exc:
        raise JobFileError(path, [_describe(e) for e in exc.errors()]) from None


def discover_harvests(folder: str | Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob(f"*{SUFFIX}") if p.is_file())
