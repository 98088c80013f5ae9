"""Every published timestamp is an instant: naive source values are read in the dataset's declared zone,
values with an offset keep it, the API answers RFC 3339 with the offset, and filters compare instants."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from opendata.settings import Settings
from publishers.runner import run_job
from tests.conftest import JobWriter

SCHEMA = {"fields": [{"name": "id", "type": "integer"}, {"name": "tapped_at", "type": "datetime"},
                     {"name": "stop", "type": "string"}], "primaryKey": ["id"], "missingValues": [""]}
ROWS = [
    ["1", "2024-03-04T05:00:00", "A"],        # New York local: 10:00 UTC
    ["2", "2024-03-04T05:00:00Z", "B"],       # already UTC
    ["3", "2024-03-04T05:00:00-08:00", "C"],  # Pacific: 13:00 UTC
    ["4", "2024-03-04T01:30:00", "D"],        # New York local: 06:30 UTC
    ["5", "2024-07-04T12:00:00", "E"],        # summer time in New York: 16:00 UTC
]
UTC_VALUES = {1: "2024-03-04T10:00:00+00:00", 2: "2024-03-04T05:00:00+00:00", 3: "2024-03-04T13:00:00+00:00",
              4: "2024-03-04T06:30:00+00:00", 5: "2024-07-04T16:00:00+00:00"}
RFC_3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
ROWS_PATH = "/api/v1/datasets/taps/rows"


@pytest.fixture
def client(settings: Settings, write_job: JobWriter) -> TestClient:
    job = write_job(name="taps", header=["id", "tapped_at", "stop"], rows=ROWS, schema=SCHEMA, privacy={},
                    timezone="America/New_York")
    result = run_job(job, settings)
    assert result.release is not None, result.run.error
    return TestClient(create_app(settings))


def ids(client: TestClient, **params: str) -> list[int]:
    answer = client.get(ROWS_PATH, params=params)
    assert answer.status_code == 200, answer.text
    return sorted(r["id"] for r in answer.json()["rows"])


def test_naive_values_are_read_in_the_datasets_zone_and_served_with_an_offset(client: TestClient) -> None:
    rows = client.get(ROWS_PATH).json()["rows"]
    assert {r["id"]: r["tapped_at"] for r in rows} == UTC_VALUES
    for row in rows:
        assert RFC_3339.fullmatch(row["tapped_at"]) and datetime.fromisoformat(row["tapped_at"]).tzinfo is not None
    exported = list(csv.DictReader(io.StringIO(client.get("/api/v1/datasets/taps/export.csv").text)))
    assert {int(r["id"]): r["tapped_at"] for r in exported} == UTC_VALUES


def test_filters_compare_instants(client: TestClient) -> None:
    # 06:00Z is 01:00 in New York: rows 1 (10:00Z), 3 (13:00Z), 4 (06:30Z) and 5 are later.
    assert ids(client, tapped_at__gt="2024-03-04T06:00:00Z") == [1, 3, 4, 5]
    # The same wall time in New York is 11:00Z: only row 3 (13:00Z) and the summer row are later.
    assert ids(client, tapped_at__gt="2024-03-04T06:00:00-05:00") == [3, 5]
    assert ids(client, tapped_at__gt="2024-03-04T06:00:00-05:00") != ids(client, tapped_at__gt="2024-03-04T06:00:00")
    assert ids(client, tapped_at="2024-03-04T05:00:00-05:00") == [1]  # the same instant as 10:00Z
    assert ids(client, tapped_at="2024-03-04T10:00:00+00:00") == [1]
    assert ids(client, tapped_at__lte="2024-03-04T05:00:00") == [2]  # no offset: UTC, the zone answers are in
    sql = client.get("/api/v1/sql", params={"sql": "SELECT id FROM taps WHERE tapped_at < TIMESTAMPTZ "
                                                   "'2024-03-04 06:00:00-05:00' ORDER BY id"})
    assert [r["id"] for r in sql.json()["rows"]] == [1, 2, 4]


@pytest.mark.parametrize("value", ["2024-03-04T06:00:00+25:00", "2024-02-30T06:00:00Z", "yesterday", "06:00"])
def test_filters_refuse_what_they_cannot_read(client: TestClient, value: str) -> None:
    answer = client.get(ROWS_PATH, params={"tapped_at__gt": value})
    assert answer.status_code == 400
    assert answer.json()["error"]["detail"]["parameter"] == "tapped_at__gt"
    assert "not a valid datetime" in answer.json()["error"]["message"]


def test_the_openapi_document_declares_instants_as_date_time(client: TestClient) -> None:
    document = client.get("/api/v1/datasets/taps/openapi.json").json()
    column = document["components"]["schemas"]["taps.row"]["properties"]["tapped_at"]
    assert column["format"] == "date-time" and "pattern" not in column


def test_the_declared_zone_is_shown_in_the_metadata(client: TestClient) -> None:
    assert client.get("/api/v1/datasets/taps").json()["timezone"] == "America/New_York"
    assert "America/New_York" in client.get("/datasets/taps").text
    assert client.get("/api/v1/datasets/taps/releases/1/datapackage.json").json()["opendata:timezone"] == (
        "America/New_York")


def test_a_full_incremental_release_keeps_the_previous_instants(settings: Settings, write_job: JobWriter) -> None:
    options = {"name": "taps", "header": ["id", "tapped_at", "stop"], "schema": SCHEMA, "privacy": {},
               "timezone": "America/New_York", "incremental": {"cursor": "id", "release": "full"}}
    assert run_job(write_job(rows=ROWS[:3], **options), settings).release is not None
    second = run_job(write_job(rows=ROWS, **options), settings)
    assert second.release is not None and second.release.number == 2, second.run.error
    rows = TestClient(create_app(settings)).get(ROWS_PATH, params={"release": 2}).json()["rows"]
    assert {r["id"]: r["tapped_at"] for r in rows} == UTC_VALUES  # carried rows not shifted by the zone
