"""The runner's anonymisation over staged Parquet, chunk by chunk, against the in-memory stage: the same
report (changed counts, detections, risk, findings) and the same rows, on tables spanning several chunks."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anonymize import anonymize_table
from anonymize.chunked import anonymize_parquet
from anonymize.report import PrivacyReport
from opendata.errors import JobFileError
from opendata.settings import Settings
from tests.anonymize_fixtures import make_job, text_table

CHUNK = 1200
NOTES = [
    "Caller Maria Gonzalez reported a broken streetlight, call back on 212-555-0143.",
    "Resident John Smith says the bins were not collected, reach him at john.smith@mail.test",
    "Street light out on the corner near the school.",
    "Noise complaint after midnight, no callback requested.",
    "Spoke with Aisha Khan; she will send photos to aisha.k@city.test next week.",
]
POLICY: dict[str, Any] = {
    "columns": {
        "email": "pseudonymize",
        "phone": {"mask": 4},
        "age": {"generalize": "bins", "width": 10},
        "zip": {"generalize": "prefix", "length": 3},
        "category": {"suppress": {"min_count": 30}, "other": "other"},
        "notes": "redact",
        "address": "drop",
        "taken": {"generalize": "date", "to": "month"},
    },
    "quasi_identifiers": ["age", "zip"],
    "sensitive": ["diagnosis"],
    "k": 5,
    "l": 2,
}


def people(rows: int = 6000, seed: int = 3) -> pa.Table:
    """Spread over several chunks: a category common overall but under min_count in every chunk, rare
    quasi-identifier classes scattered, a few free texts repeated (the redaction cache's case)."""
    rnd = random.Random(seed)
    categories = []
    for i in range(rows):
        if i % 150 == 7:
            categories.append("spread-thin")  # 40 over the table, under 30 in any chunk of 1200
        elif i in (11, 2500, 5999):
            categories.append("truly-rare")
        else:
            categories.append(rnd.choice(["noise", "lights", "parking"]))
    ages = [str(rnd.randint(18, 90)) if i % 97 else None for i in range(rows)]
    zips = [f"{rnd.choice(['100', '112', '104', '999'])}{rnd.randint(0, 99):02d}" for _ in range(rows)]
    zips[rows // 2] = "55501"  # a class of one in the middle
    return text_table({
        "id": [str(i) for i in range(rows)],
        "email": [f"person{rnd.randint(0, 900)}@mail.test" for _ in range(rows)],
        "phone": [f"212-555-{rnd.randint(0, 9999):04d}" if i % 13 else None for i in range(rows)],
        "age": ages,
        "zip": zips,
        "diagnosis": [rnd.choice(["flu", "cold", "sprain", "none"]) for _ in range(rows)],
        "category": categories,
        "notes": [NOTES[rnd.randrange(len(NOTES))] if i % 5 else None for i in range(rows)],
        "address": [f"{rnd.randint(1, 999)} Main Street" for _ in range(rows)],
        "taken": [f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}" if i % 11 else "not a date"
                  for i in range(rows)],
    })


def _settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, pseudonym_key="chunk-test-key-not-secret", text_workers=1, detection_sample_rows=500)


def _both(
    tmp_path: Path, table: pa.Table, policy: dict[str, Any], previous: PrivacyReport | None = None
) -> tuple[pa.Table, PrivacyReport, pa.Table, PrivacyReport]:
    settings = _settings(tmp_path)
    job = make_job(policy)
    raw, out = tmp_path / "staging" / "raw.parquet", tmp_path / "staging" / "anonymized.parquet"
    raw.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, raw, row_group_size=700)
    chunks: list[int] = []
    chunked = anonymize_parquet(raw, out, job, settings, "run-1", previous, chunk_rows=CHUNK, on_chunk=chunks.append)
    assert sum(chunks) == table.num_rows
    in_memory, report = anonymize_table(table, job, settings, "run-1", previous)
    return pq.read_table(out), chunked, in_memory.table, report


def _same(a: PrivacyReport, b: PrivacyReport) -> None:
    assert a.model_dump(exclude={"created_at"}) == b.model_dump(exclude={"created_at"})


def test_chunked_anonymisation_gives_the_in_memory_report_and_rows(tmp_path: Path) -> None:
    table = people()
    assert table.num_rows > 4 * CHUNK
    rows, chunked, expected_rows, expected = _both(tmp_path, table, POLICY)
    _same(chunked, expected)
    assert rows.equals(expected_rows)
    # what makes the comparison mean something
    category = next(c for c in chunked.columns if c.name == "category")
    assert category.changed == 3, "only the three truly rare values: counted over the file, not per chunk"
    assert "spread-thin" in rows.column("category").to_pylist()
    assert chunked.risk is not None and chunked.risk.suppressed_records > 0
    assert chunked.risk.before is not None and chunked.risk.before.records == table.num_rows
    assert "55501" not in rows.column("zip").to_pylist() and "555" not in rows.column("zip").to_pylist()
    notes = next(c for c in chunked.columns if c.name == "notes")
    assert notes.changed > 0 and not any("Maria Gonzalez" in (n or "") for n in rows.column("notes").to_pylist())
    assert "address" not in rows.column_names and chunked.rows_out == rows.num_rows < table.num_rows


def test_block_mode_previous_release_and_an_empty_file_match_too(tmp_path: Path) -> None:
    table = people(3000)
    blocking = {**POLICY, "on_k_violation": "block"}
    rows, chunked, expected_rows, expected = _both(tmp_path / "block", table, blocking)
    _same(chunked, expected)
    assert chunked.blocked and rows.num_rows == table.num_rows == expected_rows.num_rows

    changed = {**POLICY, "columns": {**POLICY["columns"], "email": "keep"}}
    _, chunked, _, expected = _both(tmp_path / "previous", table, changed, previous=expected)
    _same(chunked, expected)
    assert ["policy-changed", None, False] in chunked.flatten(["type", "column", "blocking"])

    empty = table.slice(0, 0)
    rows, chunked, expected_rows, expected = _both(tmp_path / "empty", empty, POLICY)
    _same(chunked, expected)
    assert rows.num_rows == 0 and rows.column_names == expected_rows.column_names


def test_a_bad_rule_parameter_names_the_column(tmp_path: Path) -> None:
    raw = tmp_path / "raw.parquet"
    pq.write_table(text_table({"age": ["20", "30"], "kind": ["a", "b"]}), raw)
    for rule, column in (({"generalize": "bins", "width": -1}, "age"), ({"suppress": {"min_count": 0}}, "kind")):
        with pytest.raises(JobFileError, match=f"privacy.columns.{column}"):
            anonymize_parquet(raw, tmp_path / "out.parquet", make_job({"columns": {column: rule}}),
                              _settings(tmp_path), "run-1")
