"""A small real catalog for the web, search, DCAT and history tests, and a real server for browser tests.

``build_catalog_home`` writes real release folders (typed Parquet, datapackage.json, privacy and validation
reports in the shapes the pipeline writes) and records them in a real SQLite catalog:

- ``city-311-requests`` (organisation city-of-example): release 1 (40 rows), release 2 (55 rows, a new
  column ``borough``, ``response_hours`` now an integer, a new privacy finding, ``notes`` now redacted);
- ``air-quality`` (environment-agency): one release, tags air/environment, licence CC0-1.0;
- ``bus-stops`` (environment-agency): only a release awaiting approval (not public), its report with the
  policy, residual risk at each stage and masked examples (``reviewed``);
- runs: succeeded ones for the releases above, and a failed run of ``air-quality`` with its message.

``LiveServer`` runs the real app under uvicorn in a thread on a free loopback port (browser tests).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.models import Dataset, Release, Run
from catalog.store import Catalog
from opendata.settings import Settings

BOROUGHS = ["BROOKLYN", "QUEENS", "BRONX", "MANHATTAN"]
CATEGORIES = ["pothole", "graffiti", "streetlight", "noise"]


def field(name: str, kind: str, title: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "title": title, "description": description, **extra}


SCHEMA_1: dict[str, Any] = {
    "fields": [
        field("request_id", "integer", "Request", "Id of the request.", constraints={"required": True, "unique": True}),
        field("category", "string", "Category", "What the request is about.",
              constraints={"enum": CATEGORIES}),
        field("opened_on", "date", "Opened on", "Day the request was opened."),
        field("response_hours", "number", "Response time", "Hours until the first response."),
        field("notes", "string", "Notes", "Free text from the call taker."),
    ],
    "primaryKey": ["request_id"],
}
SCHEMA_2: dict[str, Any] = {
    "fields": [
        *[f for f in SCHEMA_1["fields"] if f["name"] != "response_hours"],
        field("response_hours", "integer", "Response time", "Whole hours until the first response."),
        field("borough", "string", "Borough", "Borough where the problem is."),
    ],
    "primaryKey": ["request_id"],
}
AIR_SCHEMA: dict[str, Any] = {
    "fields": [
        field("station", "string", "Station", "Monitoring station."),
        field("measured_at", "datetime", "Measured at", "UTC time of the measurement."),
        field("pm25", "number", "PM2.5", "Fine particulate matter, µg/m³."),
    ],
}


def requests_rows(count: int, schema: dict[str, Any]) -> pa.Table:
    names = [f["name"] for f in schema["fields"]]
    columns: dict[str, Any] = {
        "request_id": pa.array(range(1, count + 1), pa.int64()),
        "category": pa.array([CATEGORIES[i % 4] for i in range(count)]),
        "opened_on": pa.array([date(2024, 3, 1) + timedelta(days=i % 20) for i in range(count)], pa.date32()),
        "notes": pa.array([f"note {i}" if i % 3 else None for i in range(count)]),
        "borough": pa.array([BOROUGHS[i % 4] for i in range(count)]),
    }
    if next(f for f in schema["fields"] if f["name"] == "response_hours")["type"] == "integer":
        columns["response_hours"] = pa.array([i % 48 for i in range(count)], pa.int64())
    else:
        columns["response_hours"] = pa.array([i * 0.5 for i in range(count)], pa.float64())
    return pa.table({n: columns[n] for n in names})


def air_rows(count: int) -> pa.Table:
    start = datetime(2024, 5, 1, 0, 0)
    return pa.table({
        "station": pa.array([["North", "South", "Harbour"][i % 3] for i in range(count)]),
        "measured_at": pa.array([start + timedelta(hours=i) for i in range(count)], pa.timestamp("us")),
        "pm25": pa.array([5.0 + (i % 17) for i in range(count)], pa.float64()),
    })


def privacy_report(dataset: str, rows: int, actions: dict[str, str], findings: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "dataset": dataset, "run_id": f"run-{dataset}", "policy_hash": "p", "created_at": "2024-03-01T00:00:00Z",
        "rows_in": rows, "rows_out": rows,
        "columns": [
            {"name": name, "action": action, "params": {}, "covered": action != "keep",
             "detections": [{"entity": "PERSON", "source": "text", "count": 2, "sampled": 10, "confidence": 0.8}]
             if name == "notes" else [], "changed": 0, "unparseable": 0}
            for name, action in actions.items()
        ],
        "findings": findings, "risk": None,
    }


def measured(records: int, sizes: dict[str, int], below_k: int) -> dict[str, Any]:
    classes = sum(sizes.values())
    unique = sizes.get("1", 0)
    return {"records": records, "equivalence_classes": classes, "smallest_class": min(int(k) for k in sizes),
            "unique_records": unique, "uniqueness": unique / records, "class_sizes": sizes,
            "records_below_k": below_k}


def reviewed(report: dict[str, Any], generalised_column: bool = True) -> dict[str, Any]:
    """A report with what a reviewed release's report has: the policy as written, residual risk over
    quasi-identifiers measured at each stage, masked before/after values (the shapes the pipeline writes).
    ``report`` is of 55 published rows: 70 came in, 15 were suppressed (the numbers reconcile)."""
    policy = {"columns": {"notes": "redact", "opened_on": {"generalize": "month"}},
              "quasi_identifiers": ["borough", "opened_on"], "k": 5, "requires_approval": True}
    columns = [dict(c) for c in report["columns"]]
    for column in columns:
        if column["name"] == "notes":
            column["changed"] = 3
            column["examples"] = [{"before": "caller M**** G******* reported", "after": "caller <PERSON> reported"}]
    if generalised_column:
        columns.append({
            "name": "opened_on", "action": "generalize", "params": {"generalize": "month"}, "covered": True,
            "detections": [], "changed": 55, "unparseable": 0,
            "examples": [{"before": "2024-03-07", "after": "2024-03"}, {"before": "2024-03-19", "after": "2024-03"}],
        })
    risk = {"quasi_identifiers": ["borough", "opened_on"], "k": 5, "l": 1, "sensitive": [],
            "on_k_violation": "suppress", "before": measured(70, {"1": 50, "2": 10}, 70),
            "generalised": measured(70, {"3": 1, "4": 3, "5": 11}, 15), "after": measured(55, {"5": 11}, 0),
            "suppressed_records": 15}
    return {**report, "policy": policy, "columns": columns, "risk": risk, "rows_in": 70, "rows_out": 55}


@dataclass
class CatalogHome:
    settings: Settings
    catalog: Catalog

    def client(self, **kwargs: Any) -> TestClient:
        return TestClient(create_app(self.settings), **kwargs)

    def add_dataset(self, name: str, organization: str, org_title: str, **fields: Any) -> Dataset:
        values: dict[str, Any] = {
            "title": name.replace("-", " ").title(), "description": f"Dataset {name}.", "license": "CC-BY-4.0",
            "tags": [], "frequency": "daily", "schedule": "0 6 * * *", "updated_at": "2024-03-01T00:00:00Z",
        }
        values.update(fields)
        dataset = Dataset(name=name, organization=organization, **values)
        self.catalog.upsert_dataset(dataset, org_title)
        return dataset

    def publish(
        self, dataset: str, table: pa.Table, schema: dict[str, Any], privacy: dict[str, Any], *,
        state: str = "published", policy_hash: str = "policy-1", day: int = 1,
    ) -> Release:
        number = self.catalog.next_release_number(dataset)
        folder = f"{dataset}/{number}"
        target = self.settings.paths.releases / folder
        target.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, target / "data.parquet")
        documents = {
            "datapackage.json": {"name": dataset, "version": str(number),
                                 "resources": [{"path": "data.parquet", "schema": schema}]},
            "privacy-report.json": privacy,
            "validation-report.json": {"valid": True, "stats": {"rows": table.num_rows}, "errors": []},
        }
        for name, document in documents.items():
            (target / name).write_text(json.dumps(document), encoding="utf-8")
        files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(target.iterdir())}
        run_id = f"run-{dataset}-{number}"
        created = f"2024-03-{day:02d}T06:00:00Z"
        release = Release(
            dataset=dataset, number=number, state=state,  # type: ignore[arg-type]
            created_at=created, published_at=f"2024-03-{day:02d}T06:05:00Z" if state == "published" else None,
            rows=table.num_rows, table_schema=schema, folder=folder, files=files, run_id=run_id,
            policy_hash=policy_hash,
        )
        run = Run(
            run_id=run_id, dataset=dataset, job_path=f"datasets/{dataset}.yaml",
            state="succeeded" if state == "published" else "awaiting-approval",
            started_at=created, ended_at=f"2024-03-{day:02d}T06:01:30Z", rows_in=table.num_rows,
            rows_out=table.num_rows, release=number,
        )
        self.catalog.record_release(release, run)
        return release


def build_catalog_home(tmp_path: Path, **settings: Any) -> CatalogHome:
    settings.setdefault("rate_limit_anonymous", 100_000)
    config = Settings(home=tmp_path / "home", **settings)
    config.paths.ensure()
    home = CatalogHome(config, Catalog(config.paths.catalog_db))
    home.add_dataset(
        "city-311-requests", "city-of-example", "City of Example 311",
        title="311 service requests", tags=["311", "service-requests", "city"],
        description="Requests for non-emergency city services.\n\nOne row per request; notes are redacted.",
    )
    home.publish(
        "city-311-requests", requests_rows(40, SCHEMA_1), SCHEMA_1,
        privacy_report("city-311-requests", 40, {"request_id": "keep", "notes": "keep"}, []),
    )
    home.publish(
        "city-311-requests", requests_rows(55, SCHEMA_2), SCHEMA_2,
        reviewed(privacy_report(
            "city-311-requests", 55, {"request_id": "keep", "notes": "redact", "borough": "keep"},
            [{"type": "uncovered-quasi-identifier", "column": "borough", "blocking": False,
              "message": "column 'borough' looks like a quasi-identifier"}],
        ), generalised_column=False),
        policy_hash="policy-2", day=2,
    )
    home.add_dataset(
        "air-quality", "environment-agency", "Environment Agency", title="Air quality measurements",
        tags=["air", "environment"], license="CC0-1.0", schedule="0 * * * *", frequency="hourly",
        description="Hourly fine particulate matter at three monitoring stations.",
    )
    home.publish("air-quality", air_rows(72), AIR_SCHEMA, privacy_report("air-quality", 72, {"station": "keep"}, []))
    home.catalog.save_run(Run(
        run_id="run-air-quality-failed", dataset="air-quality", job_path="datasets/air-quality.yaml",
        state="failed", started_at="2024-03-03T06:00:00Z", ended_at="2024-03-03T06:00:12Z",
        error="source unavailable: the station feed answered 503 three times; the next scheduled run retries",
        public_error="source unavailable: the station feed answered 503 three times; the next scheduled run retries",
    ))
    home.add_dataset("bus-stops", "environment-agency", "Environment Agency", title="Bus stops",
                     tags=["transit"], description="Every bus stop.")
    home.publish("bus-stops", requests_rows(55, SCHEMA_2), SCHEMA_2,
                 reviewed(privacy_report("bus-stops", 55, {"request_id": "keep", "notes": "redact", "borough": "keep"},
                                         [])),
                 state="awaiting-approval")
    return home


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """The real app under uvicorn, in a thread, on a free loopback port."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        """``options``: more of uvicorn's settings (``http=`` a protocol class, ``log_level``)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port,
                                **{"log_level": "warning", **options})
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: The browser tests' one skip: Debian's Chromium is missing here and CI is not set (.ci/run installs it).
NEEDS_CHROMIUM = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()) and not os.environ.get("CI"),
    reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)",
)


def chromium(user_data_dir: Path, width: int = 1280, height: int = 900) -> Any:
    """Headless Debian Chromium driven by Debian's chromedriver (no driver or browser download)."""
    import os

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must never try to download anything
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={user_data_dir}", f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


@contextmanager
def browser_session(user_data_dir: Path, width: int = 1280, height: int = 900) -> Iterator[Any]:
    """``chromium`` with the page-load and script timeouts the browser tests use, quit on the way out."""
    driver = chromium(user_data_dir, width, height)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


SCREENSHOTS = [
    ("home.png", "/catalog", 1280, 1000),
    ("search.png", "/catalog?q=transit", 1280, 900),
    ("dataset.png", "/datasets/city-311-requests", 1280, 6200),
    ("dataset-map.png", "/datasets/city-311-requests#map", 1280, 1500),
    ("search-typo.png", "/catalog?q=wether&sort=updated", 1280, 900),
    ("search-suggestion.png", "/catalog?q=fres", 1280, 900),
    ("organization-311.png", "/organizations/city-311", 1280, 1000),
    ("dataset-phone.png", "/datasets/weather-alerts", 390, 1800),
    ("organization.png", "/organizations/metro-transit", 1280, 900),
    ("runs.png", "/runs", 1280, 1400),
    ("privacy-report.png", "/datasets/transit-tap-ons/releases/1/privacy", 1280, 4200),
    ("privacy-report-phone.png", "/datasets/transit-tap-ons/releases/1/privacy", 390, 2400),
    ("validation-report.png", "/datasets/transit-tap-ons/releases/1/validation", 1280, 1200),
    ("sign-in.png", "/sign-in", 1280, 700),
]
#: Pages behind the officer's sign-in (``take_screenshots(..., officer_key=...)``).
OFFICER_SCREENSHOTS = [
    ("approvals.png", "/approvals", 1280, 1000),
    ("review.png", "/datasets/transit-tap-ons/releases/2/privacy", 1280, 1400),
]


def _wait_for_map(driver: Any, seconds: float = 10) -> None:
    """Wait until the page's map (if it has one) has drawn its features from the rows API."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and driver.execute_script(
        "const m = document.getElementById('map-canvas'); return m !== null && !m.dataset.drawn"
    ):
        time.sleep(0.1)


def take_screenshots(
    home: Path, out: Path, pages: list[tuple[str, str, int, int]] | None = None, officer_key: str | None = None,
) -> list[Path]:
    """Screenshots of the main pages of the home at ``home`` (run the demo jobs there first); with
    ``officer_key``, each driver signs in first (the officer's pages, ``OFFICER_SCREENSHOTS``)."""
    import tempfile

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with LiveServer(Settings(home=home, rate_limit_anonymous=100_000)) as server, \
            tempfile.TemporaryDirectory() as profile:
        for name, path, width, height in pages or SCREENSHOTS:
            driver = chromium(Path(profile) / name, width, height)
            try:
                if officer_key:
                    driver.get(server.url + "/sign-in")
                    driver.find_element("id", "key").send_keys(officer_key)
                    driver.find_element("css selector", "form.sign-in button").click()
                driver.get(server.url + path)
                _wait_for_map(driver)
                driver.save_screenshot(str(out / name))
                written.append(out / name)
            finally:
                driver.quit()
    return written


if __name__ == "__main__":
    import sys

    # .venv/bin/python -m tests.web_fixtures /tmp/h-demo docs/screenshots [OFFICER_KEY]
    for shot in take_screenshots(Path(sys.argv[1]), Path(sys.argv[2])):
        print(shot)
    if len(sys.argv) > 3:
        for shot in take_screenshots(Path(sys.argv[1]), Path(sys.argv[2]), OFFICER_SCREENSHOTS, sys.argv[3]):
            print(shot)
