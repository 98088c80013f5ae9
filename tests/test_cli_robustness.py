"""No traceback for any input on the command line: NUL bytes in a header, a folder or random bytes given as
a job or a CSV, a field of many MB, a reader that leaves the pipe early; a header-only source says "no rows"."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from opendata.cli import main
from tests.conftest import REPO, JobWriter

OPENDATA = [sys.executable, "-m", "opendata.cli"]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``opendata ARGS`` in this process (main() itself: any traceback would fail the test)."""

    def run(*args: str, home: Path) -> Result:
        monkeypatch.chdir(home.parent)
        code = main(["--home", str(home), *args])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def no_traceback(result: Result | subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "nul.csv").write_bytes(b"id,na\x00me\n1,2\n")
    (tmp_path / "random.bin").write_bytes(bytes(range(256)) * 40 + os.urandom(4096))
    (tmp_path / "header.csv").write_text("id,name\n")
    (tmp_path / "folder").mkdir()
    with (tmp_path / "huge.csv").open("w") as handle:
        # Past both limits that used to fail (the csv module's 128 KiB field, Arrow's 4 MiB block); the
        # issue's 50 MB field takes the same path, only slower.
        handle.write("id,text\n1," + "x" * 6_000_000 + "\n2,short\n")
    return tmp_path


@pytest.mark.parametrize("args, says", [
    (("validate", "nul.csv"), "holds a NUL byte"),
    (("schema", "infer", "nul.csv"), "holds a NUL byte"),
    (("validate", "folder"), "is not a file"),
    (("run", "folder"), "is a folder"),
    (("run", "random.bin"), "not UTF-8 text"),
    (("run", "nul.csv"), "invalid"),
])
def test_bad_input_is_a_clear_error(files: Path, cli: Callable[..., Result], args: tuple[str, ...], says: str
                                    ) -> None:
    result = cli(*args, home=files / "home")
    no_traceback(result)
    assert result.returncode == 2 and says in result.stderr, result.stderr


def test_random_bytes_to_validate_are_findings_or_a_clear_error(files: Path, cli: Callable[..., Result]) -> None:
    result = cli("validate", "random.bin", home=files / "home")
    no_traceback(result)
    assert result.returncode in (1, 2)


def test_a_field_of_megabytes_is_read(files: Path, cli: Callable[..., Result]) -> None:
    for args, says in ((("validate", "huge.csv"), "valid: 2 rows"), (("schema", "infer", "huge.csv"), '"text"')):
        result = cli(*args, home=files / "home")
        no_traceback(result)
        assert result.returncode == 0 and says in result.stdout, result.stderr


def test_a_reader_leaving_the_pipe_early_is_no_error(files: Path) -> None:
    (files / "long.csv").write_text("id,name\n" + "".join(f"{i},name {i}\n" for i in range(100_000)))
    env = {**os.environ, "OPENDATA_HOME": str(files / "home"), "PYTHONPATH": str(REPO)}
    command = " ".join([*OPENDATA, "validate", "long.csv", "--json"]) + " | head -c 10"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, env=env,
                            cwd=files, timeout=300)
    no_traceback(result)
    assert "BrokenPipe" not in result.stderr and result.returncode == 0, result.stderr


def test_a_header_only_source_says_no_rows(files: Path, write_job: JobWriter, cli: Callable[..., Result]) -> None:
    job = write_job(name="empty", header=["request_id", "opened", "category", "notes", "contact_email",
                                          "latitude"], rows=[])
    result = cli("run", str(job), home=files / "home")
    no_traceback(result)
    assert "has no rows" in result.stderr + result.stdout and "no columns" not in result.stderr
