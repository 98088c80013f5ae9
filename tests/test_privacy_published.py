"""No seeded personal value survives into anything published: the Parquet file, the API's rows, the
privacy report (JSON and page), for a dataset seeding every entity type and for the demo datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from opendata.settings import Settings
from publishers.job import discover_jobs, load_job
from publishers.runner import run_job
from tests.anonymize_fixtures import seeded_people
from tests.conftest import JobWriter
from tests.test_anonymize_pipeline import COVERING_POLICY
from tests.test_datasets import read_source

DATASETS = Path(__file__).resolve().parent.parent / "datasets"


def published_text(settings: Settings, name: str) -> str:
    """Every cell of the published Parquet, and every byte the API answers about the dataset."""
    folder = settings.paths.release_dir(name, 1)
    cells = duckdb.sql(f"SELECT * FROM read_parquet('{folder / 'data.parquet'}')").fetchall()
    parts = ["\n".join(str(v) for row in cells for v in row if v is not None)]
    with TestClient(create_app(settings)) as client:
        for path in ("rows?limit=10000", "rows?limit=10000&format=csv", "releases/1/privacy-report"):
            answer = client.get(f"/api/v1/datasets/{name}/{path}")
            assert answer.status_code == 200, answer.text
            parts.append(answer.text)
        page = client.get(f"/datasets/{name}/releases/1/privacy")
        assert page.status_code == 200
        parts.append(page.text)
    return "\n".join(parts)


def test_no_seeded_value_of_any_entity_type_is_published(settings: Settings, write_job: JobWriter) -> None:
    table, seeds = seeded_people()
    header = table.column_names
    rows = [[row[c] or "" for c in header] for row in table.to_pylist()]
    schema: dict[str, Any] = {"fields": [{"name": c, "type": "string"} for c in header], "missingValues": [""]}
    dropped = {c for c, rule in COVERING_POLICY["columns"].items() if rule == "drop"}
    schema["fields"] = [f for f in schema["fields"] if f["name"] not in dropped]
    result = run_job(write_job(name="seeded-people", header=header, rows=rows, schema=schema,
                               privacy=COVERING_POLICY), settings)
    assert result.run.state == "succeeded", result.run.error
    blob = published_text(settings, "seeded-people")
    assert "<PERSON>" in blob and "<EMAIL_ADDRESS>" in blob  # redaction really ran on the notes
    for kind, values in seeds.items():
        survivors = [v for v in values if v in blob]
        assert survivors == [], f"{kind} published: {survivors[:5]}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(home=tmp_path_factory.mktemp("demo"), pseudonym_key="demo-key-for-the-test-only")
    settings.paths.ensure()
    for path in discover_jobs(DATASETS):
        assert run_job(path, settings).run.state == "succeeded"
    return settings


@pytest.mark.parametrize("path", discover_jobs(DATASETS), ids=lambda p: p.stem)
def test_no_value_the_demo_policy_hides_is_published(demo: Settings, path: Path, tmp_path: Path) -> None:
    job = load_job(path)
    if job.source.type == "ocds":
        _no_hidden_value_of_a_family_is_published(demo, job, tmp_path)
        return
    header, rows = read_source(job)
    hidden = [name for name, rule in job.privacy.columns.items() if rule.action in ("drop", "pseudonymize", "mask")]
    values = {row[header.index(name)] for name in hidden for row in rows}
    # A dropped address without a house number ("EAST 205 STREET") is also a kept street name: not hidden.
    kept = {row[i] for i, name in enumerate(header) if name not in hidden for row in rows}
    values = {v for v in values if v is not None and len(v) >= 6 and v not in kept}
    assert values or not hidden
    blob = published_text(demo, job.name)
    assert [v for v in values if v in blob] == []
    if job.name == "weather-alerts":  # the AMBER alert's child, suspect, address and dates of birth
        for seeded in ("KHAYRI", "5721 DOE", "06/24/01", "04/18/71"):
            assert seeded not in blob


def _no_hidden_value_of_a_family_is_published(demo: Settings, job: Any, tmp_path: Path) -> None:
    """A procurement family: what each table's policy hides appears in no table, API answer or red flag."""
    import pyarrow.parquet as pq

    from procurement.prepare import prepare
    from publishers.family import table_job

    prepared = prepare([job.resolve(p) for p in job.source.paths], tmp_path / "ocds")
    values: set[str] = set()
    kept: set[str] = set()
    for table, staged in prepared.tables.items():
        rules = table_job(job, table).privacy.columns
        data = pq.read_table(staged).to_pylist()
        for row in data:
            for name, value in row.items():
                hidden = name in rules and rules[name].action in ("drop", "pseudonymize", "mask")
                if value is not None:
                    (values if hidden else kept).add(value)
    values = {v for v in values if len(v) >= 6 and v not in kept}
    assert values, "the demo family hides contact persons"
    blob = "\n".join(published_text(demo, f"{job.name}-{t}") for t in prepared.tables)
    with TestClient(create_app(demo)) as client:
        blob += client.get(f"/api/v1/datasets/{job.name}-processes/releases/1/red-flags").text
    assert [v for v in values if v in blob] == []
