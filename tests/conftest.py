"""Shared fixtures: a private data folder per test and small real job folders on disk."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

from opendata.settings import Settings  # noqa: E402
from tests.webhook_receiver import Receiver  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

PEOPLE_HEADER = ["request_id", "opened", "category", "notes", "contact_email", "latitude"]
PEOPLE_ROWS = [
    ["1", "2024-03-01T08:15:00", "pothole", "Caller Maria Gonzalez reported a deep pothole.",
     "maria.gonzalez@example.test", "40.712776"],
    ["2", "2024-03-01T09:40:00", "noise", "Loud music after midnight, neighbour complained.",
     "j.smith@example.test", "40.730610"],
    ["3", "2024-03-02T11:05:00", "graffiti", "Graffiti on the north wall of the library.",
     "", "40.748817"],
    ["4", "2024-03-03T16:20:00", "pothole", "Call back Robert Johnson at 212-555-0147.",
     "rjohnson@example.test", "40.706086"],
]
PEOPLE_SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "request_id", "type": "integer", "constraints": {"required": True, "unique": True}},
        {"name": "opened", "type": "datetime"},
        {"name": "category", "type": "string", "constraints": {"enum": ["pothole", "noise", "graffiti"]}},
        {"name": "notes", "type": "string"},
        {"name": "contact_email", "type": "string"},
        {"name": "latitude", "type": "number", "constraints": {"minimum": -90, "maximum": 90}},
    ],
    "primaryKey": ["request_id"],
    "missingValues": [""],
}
PEOPLE_PRIVACY: dict[str, Any] = {
    "columns": {
        "notes": "redact",
        "contact_email": "pseudonymize",
        "latitude": {"generalize": "round", "digits": 3},
    }
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    home = tmp_path / "home"
    result = Settings(home=home, pseudonym_key="test-key-not-secret", datasets_dir=tmp_path / "jobs")
    result.paths.ensure()
    return result


JobWriter = Callable[..., Path]


@pytest.fixture
def write_job(tmp_path: Path) -> JobWriter:
    """Write a CSV-sourced job (data, schema, YAML) and return the job file's path."""

    def write(
        name: str = "service-requests",
        header: list[str] | None = None,
        rows: list[list[str]] | None = None,
        schema: dict[str, Any] | None = None,
        privacy: dict[str, Any] | None = None,
        **extra: Any,
    ) -> Path:
        folder = tmp_path / "jobs" / name
        (folder / "data").mkdir(parents=True, exist_ok=True)
        with open(folder / "data" / "rows.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header or PEOPLE_HEADER)
            writer.writerows(PEOPLE_ROWS if rows is None else rows)
        (folder / "table.schema.json").write_text(json.dumps(schema or PEOPLE_SCHEMA))
        job = {
            "name": name,
            "title": "Service requests",
            "description": "Requests for non-emergency city services.",
            "organization": "test-city",
            "license": "CC-BY-4.0",
            "tags": ["services"],
            "source": {"type": "csv", "path": "data/rows.csv"},
            "schema": "table.schema.json",
            "privacy": PEOPLE_PRIVACY if privacy is None else privacy,
            **extra,
        }
        path = folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump(job, sort_keys=False))
        return path

    return write


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook target on loopback that records every delivery."""
    found = Receiver()
    yield found
    found.close()
