"""Invariant 1: what a source yields never reaches the public side."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from opendata.settings import Settings
from publishers.runner import run_job
from tests.conftest import JobWriter

RAW_VALUES = ("maria.gonzalez@example.test", "Maria Gonzalez", "Robert Johnson", "212-555-0147",
              "rjohnson@example.test", "j.smith@example.test", "40.712776")


def test_no_api_answer_carries_a_raw_value(settings: Settings, write_job: JobWriter) -> None:
    run_job(write_job(), settings)
    client = TestClient(create_app(settings))
    base = "/api/v1/datasets/service-requests"
    answers = [
        client.get("/api/v1/datasets"),
        client.get(base),
        client.get(f"{base}/rows"),
        client.get(f"{base}/rows?format=csv"),
        client.get(f"{base}/releases/1"),
        client.get(f"{base}/releases/1/privacy-report"),
        client.get(f"{base}/releases/1/validation-report"),
        client.get(f"{base}/releases/1/datapackage.json"),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.url
        for raw in RAW_VALUES:
            assert raw not in answer.text, f"{raw!r} leaked through {answer.url}"
    assert len(client.get(f"{base}/rows").json()["rows"]) == 4


def test_a_blocked_dataset_is_invisible_to_the_api(settings: Settings, write_job: JobWriter) -> None:
    run_job(write_job(privacy={"columns": {"notes": "redact"}}), settings)
    client = TestClient(create_app(settings))
    assert client.get("/api/v1/datasets").json()["datasets"] == []
    answer = client.get("/api/v1/datasets/service-requests/rows")
    assert answer.status_code == 404
    assert answer.json()["error"]["type"] == "not-found"


@pytest.mark.parametrize("where", ["staging", "quarantine", "blocked"])
def test_the_query_engine_cannot_open_private_files(settings: Settings, where: str) -> None:
    folder = getattr(settings.paths, where) / "some-job" / "run-1"
    folder.mkdir(parents=True)
    secret = folder / "raw.parquet"
    pq.write_table(pa.table({"email": ["maria.gonzalez@example.test"]}), secret)
    shutil.copy(secret, folder / "raw.csv")
    engine = create_app(settings).state.engine
    for sql in (f"SELECT * FROM read_parquet('{secret}')", f"SELECT * FROM read_csv('{folder / 'raw.csv'}')",
                "SELECT * FROM read_csv('/etc/passwd')", f"ATTACH '{settings.paths.catalog_db}' AS c"):
        with pytest.raises(Exception, match="(?i)permission|not allowed|disabled|access"):
            engine.execute(sql)
