"""The demo agencies' job files under ``datasets/``: they load, their schemas match what the policy
publishes, the published table is valid against its schema, and their build scripts are deterministic.

The policy is only *approximated* here (drop what is dropped, a stand-in value for pseudonyms, a simple
generaliser, k-anonymity suppression), enough to check each schema against its source data; the real
anonymisation lives in ``anonymize/`` and has its own tests.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import sqlite3
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
from frictionless import Resource, Schema

from publishers.job import CsvSource, Job, discover_jobs, load_job

DATASETS = Path(__file__).resolve().parent.parent / "datasets"
#: Table jobs; a family job (an ocds source, one dataset per table) is checked in test_procurement_demo.py.
JOB_PATHS = [p for p in discover_jobs(DATASETS) if load_job(p).source.type != "ocds"]
Row = list[str | None]

#: Types a schema may give a column the policy transforms: what each action or method produces.
PRODUCES: dict[str, set[str]] = {
    "pseudonymize": {"string"},
    "redact": {"string"},
    "mask": {"string"},
    "suppress": {"string"},
    "round": {"number", "integer"},
    "hour": {"datetime"},
    "date": {"date", "string"},
    "band": {"string"},
    "bins": {"string"},
    "prefix": {"string"},
}


def job_id(path: Path) -> str:
    return str(path.relative_to(DATASETS))


@pytest.fixture(scope="module", params=JOB_PATHS, ids=job_id)
def job(request: pytest.FixtureRequest) -> Job:
    return load_job(request.param)


def read_source(job: Job) -> tuple[list[str], list[Row]]:
    """What the source yields, as text with nulls, like the extract stage."""
    if isinstance(job.source, CsvSource):
        path = job.resolve(job.source.path)
        with path.open(encoding=job.source.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=job.source.delimiter)
            header = next(reader)
            return header, [[cell if cell != "" else None for cell in row] for row in reader]
    database = job.resolve(job.source.url.removeprefix("sqlite:///"))
    query = job.source.query or f'SELECT * FROM "{job.source.table}"'
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        cursor = connection.execute(query)
        header = [d[0] for d in cursor.description]
        return header, [[None if v is None else str(v) for v in row] for row in cursor]
    finally:
        connection.close()


def _generalize(value: str, params: dict) -> str:
    method = params["method"]
    if method == "round":
        return str(round(float(value), int(params.get("digits", 0))))
    if method == "band":
        width = int(params.get("width", 10))
        low = int(value) // width * width
        return f"{low}-{low + width - 1}"
    if method == "prefix":
        return value[: int(params.get("length", 3))]
    if method == "hour":
        return value[:13] + ":00:00"
    if method == "date":
        return value[:10]
    return value


def approximate_policy(job: Job, header: list[str], rows: list[Row]) -> tuple[list[str], list[Row]]:
    """Drop, transform and suppress roughly as the privacy stage would, for the schema check only."""
    rules = job.privacy.columns
    kept = [i for i, name in enumerate(header) if name not in rules or rules[name].action != "drop"]
    out_header = [header[i] for i in kept]
    out_rows = []
    for row in rows:
        new: Row = []
        for i in kept:
            value, rule = row[i], rules.get(header[i])
            if value is not None and rule is not None:
                if rule.action == "pseudonymize":
                    value = "p-" + hashlib.sha256(value.encode()).hexdigest()[:16]
                elif rule.action == "generalize":
                    value = _generalize(value, rule.params)
                elif rule.action == "suppress":
                    value = None
            new.append(value)
        out_rows.append(new)
    quasi = [out_header.index(q) for q in job.privacy.quasi_identifiers]
    if quasi and job.privacy.k > 1:
        sizes = Counter(tuple(r[i] for i in quasi) for r in out_rows)
        out_rows = [r for r in out_rows if sizes[tuple(r[i] for i in quasi)] >= job.privacy.k]
    return out_header, out_rows


@pytest.fixture(scope="module")
def published(job: Job) -> tuple[list[str], list[Row], int]:
    header, rows = read_source(job)
    out_header, out_rows = approximate_policy(job, header, rows)
    return out_header, out_rows, len(rows)


# ---------------------------------------------------------------- job files


def test_the_three_agencies_have_their_jobs() -> None:
    jobs = {load_job(p).name: load_job(p).organization for p in JOB_PATHS}
    assert jobs["weather-alerts"] == "national-weather-service"
    assert jobs["transit-tap-ons"] == "metro-transit"
    assert jobs["city-311-requests"] == "city-311"
    assert len(jobs) == len(JOB_PATHS), "job names must be unique"


def test_job_carries_the_metadata_a_person_needs(job: Job) -> None:
    assert job.title and job.organization_title and job.license and job.frequency and job.schedule
    assert len(job.description) > 300, "say what a row is, the coverage, the cadence and the caveats"
    assert job.tags and all(tag == tag.lower() for tag in job.tags)
    assert job.path.parent.parent == DATASETS, "datasets/<agency>/<dataset>.yaml"


def test_policy_names_only_real_columns(job: Job) -> None:
    header, _ = read_source(job)
    assert set(job.privacy.columns) <= set(header)
    dropped = {name for name, rule in job.privacy.columns.items() if rule.action == "drop"}
    assert set(job.privacy.quasi_identifiers) <= set(header) - dropped


# ---------------------------------------------------------------- schema against published table


def test_schema_fields_are_the_published_columns(job: Job, published: tuple) -> None:
    out_header, _, _ = published
    assert job.field_names == out_header, "schema fields, in order: the source columns the policy keeps"


def test_transformed_columns_are_typed_as_what_the_policy_makes(job: Job) -> None:
    fields = {f["name"]: f for f in job.table_schema["fields"]}
    for name, rule in job.privacy.columns.items():
        if rule.action in ("keep", "drop"):
            assert (name in fields) == (rule.action == "keep"), name
            continue
        produces = PRODUCES[rule.params["method"] if rule.action == "generalize" else rule.action]
        assert fields[name]["type"] in produces, f"{name}: {rule.action} {rule.params} gives {produces}"


def test_schema_has_steward_constraints(job: Job) -> None:
    schema = job.table_schema
    assert schema["missingValues"] == [""]
    assert schema.get("primaryKey"), "every demo table has a key"
    fields = {f["name"]: f for f in schema["fields"]}
    for key in schema["primaryKey"]:
        assert fields[key].get("constraints", {}).get("required") is True
    for field in schema["fields"]:
        assert field.get("description"), f"{field['name']}: describe the column"


def test_published_table_is_valid_against_its_schema(job: Job, published: tuple, tmp_path: Path) -> None:
    out_header, out_rows, rows_in = published
    assert out_rows and len(out_rows) > 0.99 * rows_in, "suppression should cost few rows"
    target = tmp_path / "published.csv"
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(out_header)
        writer.writerows([["" if v is None else v for v in row] for row in out_rows])
    resource = Resource(
        path=target.name, basepath=str(tmp_path), schema=Schema.from_descriptor(job.table_schema)
    )
    report = resource.validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]


def test_personal_data_never_reaches_the_schema() -> None:
    published_fields = {name for p in JOB_PATHS for name in load_job(p).field_names}
    assert not published_fields & {"rider_email", "caller_phone", "incident_address"}


def test_free_text_to_redact_really_holds_personal_data() -> None:
    job = load_job(DATASETS / "weather" / "alerts.yaml")
    header, rows = read_source(job)
    summaries = [row[header.index("summary")] or "" for row in rows]
    assert len(rows) == 164  # 163 feed entries and the AMBER alert
    assert any("DOB 06/24/01" in s and "5721 DOE ST." in s for s in summaries)


# ---------------------------------------------------------------- build scripts


def _script(relative: str) -> ModuleType:
    path = DATASETS / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tables(path: Path) -> dict[str, list[tuple]]:
    connection = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        return {n: connection.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall() for n in names}
    finally:
        connection.close()


def test_transit_generator_is_deterministic_and_matches_the_committed_database(tmp_path: Path) -> None:
    generator = _script("transit/generate_transit_db.py")
    counts = generator.generate(tmp_path / "a.sqlite")
    generator.generate(tmp_path / "b.sqlite")
    first = _tables(tmp_path / "a.sqlite")
    assert first == _tables(tmp_path / "b.sqlite")
    assert counts["tap_ons"] == 20_000 and counts["stops"] == 60 and counts["routes"] == 8
    committed = DATASETS / "transit" / "data" / "transit.sqlite"
    assert first == _tables(committed), "run datasets/transit/generate_transit_db.py and commit the result"
    assert committed.stat().st_size < 3_000_000


@pytest.mark.parametrize(
    ("script", "committed"),
    [
        ("weather/build_alerts.py", "weather/data/alerts.csv"),
        ("city/build_requests.py", "city/data/requests.csv"),
    ],
)
def test_csv_build_is_deterministic_and_matches_the_committed_file(
    script: str, committed: str, tmp_path: Path
) -> None:
    build = _script(script).build
    build(tmp_path / "a.csv")
    build(tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() == (DATASETS / committed).read_bytes(), f"rerun {script}"
