"""Real homes for the API tests: a real SQLite catalog and real release folders (Parquet + JSON reports).

Imported by tests/test_api_*.py; nothing here mocks our code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.models import Dataset, Release, Run
from catalog.store import Catalog
from opendata.settings import Settings

DATASET = "city-311-requests"
ORGANIZATION = "city-of-example"
CATEGORIES = ["pothole", "graffiti", "streetlight", "noise"]
STAGING_MARKER = "RAW-STAGING-MARKER-7f3a"

REQUESTS_SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "request_id", "type": "integer"},
        {"name": "category", "type": "string"},
        {"name": "opened_on", "type": "date"},
        {"name": "opened_at", "type": "datetime"},
        {"name": "response_hours", "type": "number"},
        {"name": "closed", "type": "boolean"},
        {"name": "ward name", "type": "string"},
    ],
    "primaryKey": ["request_id"],
}

REQUESTS_ARROW = pa.schema([
    ("request_id", pa.int64()),
    ("category", pa.string()),
    ("opened_on", pa.date32()),
    ("opened_at", pa.timestamp("us", tz="UTC")),
    ("response_hours", pa.float64()),
    ("closed", pa.bool_()),
    ("ward name", pa.string()),
])


def requests_table(rows: int, first_id: int = 1) -> pa.Table:
    """Deterministic 311 requests: ids from first_id, categories and dates cycling."""
    ids = list(range(first_id, first_id + rows))
    start = datetime(2024, 1, 1, 8, 0)
    return pa.table(
        {
            "request_id": ids,
            "category": [CATEGORIES[i % 4] for i in ids],
            "opened_on": [date(2024, 1, 1) + timedelta(days=i % 10) for i in ids],
            "opened_at": [start + timedelta(days=i % 10, minutes=i) for i in ids],
            "response_hours": [round(i * 0.5, 1) for i in ids],
            "closed": [i % 3 == 0 for i in ids],
            "ward name": [f"Ward {i % 5}" for i in ids],
        },
        schema=REQUESTS_ARROW,
    )


def privacy_report(dataset: str, number: int, rows: int) -> dict[str, Any]:
    """A minimal privacy report in the shape anonymize.report.PrivacyReport reads (pages parse it)."""
    return {
        "dataset": dataset, "run_id": f"run-{dataset}-{number}", "policy_hash": "policy-1",
        "created_at": f"2024-03-0{number}T00:00:00Z", "rows_in": rows, "rows_out": rows, "columns": [],
        "findings": [], "risk": None,
    }


@dataclass
class ApiHome:
    settings: Settings
    catalog: Catalog

    def add_dataset(self, name: str = DATASET, organization: str = ORGANIZATION) -> Dataset:
        dataset = Dataset(
            name=name,
            organization=organization,
            title=name.replace("-", " ").title(),
            description=f"Test dataset {name}",
            license="CC-BY-4.0",
            tags=["test", name.split("-")[0]],
            frequency="daily",
            updated_at="2024-03-01T00:00:00Z",
        )
        self.catalog.upsert_dataset(dataset, organization.replace("-", " ").title())
        return dataset

    def publish(
        self,
        table: pa.Table,
        *,
        dataset: str = DATASET,
        schema: dict[str, Any] | None = None,
        state: str = "published",
        folder: str | None = None,
        row_group_size: int = 64,
    ) -> Release:
        """Write a real release folder and record it in the catalog, as the publish stage would."""
        number = self.catalog.next_release_number(dataset)
        folder = folder or f"{dataset}/{number}"
        target = (self.settings.paths.releases / folder).resolve()
        target.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, target / "data.parquet", row_group_size=row_group_size)
        schema = schema or REQUESTS_SCHEMA
        documents = {
            "datapackage.json": {"name": dataset, "resources": [{"path": "data.parquet", "schema": schema}]},
            "privacy-report.json": privacy_report(dataset, number, table.num_rows),
            "validation-report.json": {"valid": True, "stats": {"rows": table.num_rows}, "errors": []},
        }
        for name, document in documents.items():
            (target / name).write_text(json.dumps(document), encoding="utf-8")
        files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(target.iterdir())}
        run_id = f"run-{dataset}-{number}"
        release = Release(
            dataset=dataset, number=number, state=state,  # type: ignore[arg-type]
            created_at=f"2024-03-0{number}T00:00:00Z",
            published_at=f"2024-03-0{number}T00:05:00Z" if state == "published" else None,
            rows=table.num_rows, table_schema=schema, folder=folder, files=files, run_id=run_id,
            policy_hash="policy-1",
        )
        run = Run(
            run_id=run_id, dataset=dataset, job_path=f"datasets/{dataset}.yaml", state="succeeded",
            started_at="2024-03-01T00:00:00Z", ended_at="2024-03-01T00:05:00Z", release=number,
        )
        self.catalog.record_release(release, run)
        return release

    def write_staging(self) -> tuple[Path, Path]:
        """Raw files in private staging, each holding STAGING_MARKER (what must never leave the API)."""
        staging = self.settings.paths.staging
        staging.mkdir(parents=True, exist_ok=True)
        csv_path = staging / "raw.csv"
        csv_path.write_text(f"name,ssn\n{STAGING_MARKER},123-45-6789\n", encoding="utf-8")
        parquet_path = staging / "raw.parquet"
        pq.write_table(pa.table({"name": [STAGING_MARKER], "ssn": ["123-45-6789"]}), parquet_path)
        return csv_path, parquet_path

    def client(self, **kwargs: Any) -> TestClient:
        return TestClient(create_app(self.settings), **kwargs)


def build_home(tmp_path: Path, **settings: Any) -> ApiHome:
    """A fresh home with one dataset (release 1: 250 rows) and one dataset awaiting approval."""
    settings.setdefault("rate_limit_anonymous", 100_000)  # tests page a lot; test_api_ratelimit sets its own
    config = Settings(home=tmp_path / "home", **settings)
    home = ApiHome(config, Catalog(config.paths.catalog_db))
    home.settings.paths.ensure()
    home.add_dataset()
    home.publish(requests_table(250))
    home.add_dataset("air-quality", "environment-agency")
    home.publish(requests_table(10), dataset="air-quality", state="awaiting-approval")
    return home
