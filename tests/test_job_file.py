"""Bad job files are refused with a message naming the file, the key and what is expected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from opendata.errors import JobFileError
from publishers.job import load_job
from tests.conftest import JobWriter


def _rewrite(path: Path, **changes: object) -> Path:
    job = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is None:
            job.pop(key, None)
        else:
            job[key] = value
    path.write_text(yaml.safe_dump(job))
    return path


def test_a_good_job_file_loads_with_its_schema(write_job: JobWriter) -> None:
    job = load_job(write_job())
    assert job.name == "service-requests"
    assert job.field_names[0] == "request_id"
    assert job.privacy.columns["latitude"].params == {"method": "round", "digits": 3}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"sourse": {"type": "csv"}}, "sourse: unknown key"),
        ({"title": None}, "title: required key is missing"),
        ({"tags": "services"}, "tags: Input should be a valid list"),
        ({"name": "Service Requests!"}, "name: String should match pattern"),
        ({"schedule": "every day"}, "schedule: schedule must be a five-field cron expression"),
        ({"source": {"type": "xls", "path": "a.xls"}}, "source: Input tag 'xls' found using 'type'"),
        ({"source": {"type": "csv", "path": "data/missing.csv"}}, "source.path: file"),
        ({"schema": "nope.json"}, "schema: file"),
        ({"privacy": {"columns": {"notes": "scramble"}}}, "privacy.columns.notes"),
        ({"privacy": {"columns": {"latitude": {"generalize": "smudge"}}}}, "generalize needs a method"),
        ({"source": {"type": "sql", "url": "sqlite:///x.db"}}, "give exactly one of 'query' or 'table'"),
    ],
)
def test_a_bad_job_file_names_the_file_and_the_key(
    write_job: JobWriter, changes: dict[str, object], expected: str
) -> None:
    path = _rewrite(write_job(), **changes)
    with pytest.raises(JobFileError) as caught:
        load_job(path)
    message = str(caught.value)
    assert str(path) in message
    assert expected in message


def test_a_missing_or_malformed_file_is_a_job_file_error(tmp_path: Path) -> None:
    with pytest.raises(JobFileError, match="does not exist"):
        load_job(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(JobFileError, match="not valid YAML"):
        load_job(broken)


def test_the_command_line_refuses_a_bad_job_without_a_traceback(write_job: JobWriter, tmp_path: Path) -> None:
    path = _rewrite(write_job(), licence="CC-BY-4.0")
    done = subprocess.run(
        [sys.executable, "-m", "opendata.cli", "--home", str(tmp_path / "home"), "run", str(path)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert "licence: unknown key" in done.stderr
    assert "Traceback" not in done.stderr
