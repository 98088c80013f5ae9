"""Real geometry releases for the geo tests: third-party rows published through the real publish path.

- ``weather-alerts``: the NWS CAP/Atom snapshot of the weather demo (datasets/weather/data/alerts.csv),
  its CAP polygons ("lat,lon lat,lon ...") published as geometry;
- ``nyc-311``: NYC 311 service requests (/work/shared/data/nyc311), a Point made of their Latitude and
  Longitude columns (``publish.points``).

The text table goes through ``catalog.typed_table.write_typed_parquet`` (as the publish stage does) and
the release is recorded with its published Table Schema (``catalog.geometry.published_schema``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa

from catalog.geometry import published_schema
from catalog.models import Release, Run
from catalog.typed_table import write_typed_parquet
from tests.api_fixtures import ApiHome, privacy_report

REPO = Path(__file__).resolve().parents[1]
ALERTS_CSV = REPO / "datasets" / "weather" / "data" / "alerts.csv"
NYC_311_CSV = Path("/work/shared/data/nyc311/311_nyc_sample.csv")
if not NYC_311_CSV.is_file():  # the shared copy, else the path relative to the checkout
    NYC_311_CSV = REPO.parent / "shared" / "data" / "nyc311" / "311_nyc_sample.csv"

ALERTS_SCHEMA: dict[str, Any] = {"fields": [
    {"name": "id", "type": "string"},
    {"name": "event", "type": "string"},
    {"name": "severity", "type": "string"},
    {"name": "expires", "type": "datetime"},
    {"name": "polygon", "type": "string", "geometry": "cap-polygon"},
]}
NYC_SCHEMA: dict[str, Any] = {"fields": [
    {"name": "Unique Key", "type": "integer"},
    {"name": "Complaint Type", "type": "string"},
    {"name": "Latitude", "type": "number"},
    {"name": "Longitude", "type": "number"},
]}
NYC_POINTS = {"location": ("Latitude", "Longitude")}


def text_table(path: Path, columns: list[str]) -> pa.Table:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return pa.table({c: [r[c] for r in rows] for c in columns})


def publish_typed(
    home: ApiHome, dataset: str, table: pa.Table, schema: dict[str, Any],
    points: dict[str, tuple[str, str]] | None = None,
) -> Release:
    """Publish a text table as the publish stage does: typed Parquet (geometry included), then the catalog."""
    home.add_dataset(dataset)
    number = home.catalog.next_release_number(dataset)
    folder = f"{dataset}/{number}"
    target = (home.settings.paths.releases / folder).resolve()
    target.mkdir(parents=True, exist_ok=True)
    rows = write_typed_parquet(table, schema, target / "data.parquet", points=points)
    public_schema = published_schema(schema, points or {})
    documents = {
        "datapackage.json": {"name": dataset, "resources": [{"path": "data.parquet", "schema": public_schema}]},
        "privacy-report.json": privacy_report(dataset, number, rows),
        "validation-report.json": {"valid": True, "stats": {"rows": rows}, "errors": []},
    }
    for name, document in documents.items():
        (target / name).write_text(json.dumps(document), encoding="utf-8")
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(target.iterdir())}
    run_id = f"run-{dataset}-{number}"
    release = Release(
        dataset=dataset, number=number, state="published", created_at="2024-03-01T00:00:00Z",
        published_at="2024-03-01T00:05:00Z", rows=rows, table_schema=public_schema, folder=folder, files=files,
        run_id=run_id, policy_hash="policy-1",
    )
    run = Run(run_id=run_id, dataset=dataset, job_path=f"datasets/{dataset}.yaml", state="succeeded",
              started_at="2024-03-01T00:00:00Z", ended_at="2024-03-01T00:05:00Z", release=number)
    home.catalog.record_release(release, run)
    return release


def publish_alerts(home: ApiHome) -> Release:
    columns = [str(f["name"]) for f in ALERTS_SCHEMA["fields"]]
    return publish_typed(home, "weather-alerts", text_table(ALERTS_CSV, columns), ALERTS_SCHEMA)


def publish_nyc_311(home: ApiHome) -> Release:
    columns = [str(f["name"]) for f in NYC_SCHEMA["fields"]]
    return publish_typed(home, "nyc-311", text_table(NYC_311_CSV, columns), NYC_SCHEMA, NYC_POINTS)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres on the sphere DuckDB spatial's ST_Distance_Sphere uses."""
    radius = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))
