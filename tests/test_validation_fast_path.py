"""The first pass's cheap shape tests (validation.fast_sql) never hide an error frictionless finds.

Cells chosen to sit on the edges of those shapes (digits beyond BIGINT, the year 0000, offsets, grouped
and prefixed numbers, bounds on every comparable type) are validated by ours and by frictionless.validate.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.validation_fixtures import frictionless_found, our_found
from validation import check_file, validate_file

SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "int", "type": "integer", "constraints": {"minimum": -5, "maximum": 999}},
        {"name": "big", "type": "integer", "constraints": {"unique": True}},
        {"name": "num", "type": "number", "constraints": {"minimum": 0.5, "maximum": 10}},
        {"name": "money", "type": "number", "bareNumber": False, "groupChar": ",",
         "constraints": {"maximum": 5000}},
        {"name": "plain", "type": "number", "bareNumber": False},
        {"name": "when", "type": "datetime"},
        # frictionless cannot compare offset-aware values with a bound, so the bounded one stays naive
        {"name": "naive", "type": "datetime", "constraints": {"minimum": "2000-01-01T00:00:00"}},
        {"name": "day", "type": "date", "constraints": {"maximum": "2030-12-31"}},
        {"name": "year", "type": "year", "constraints": {"minimum": 1901}},
        {"name": "code", "type": "string", "constraints": {"pattern": "a|b", "minLength": 1, "maxLength": 3}},
        {"name": "mail", "type": "string", "format": "email", "constraints": {"enum": ["a@b.org", "C@D.ORG", "x"]}},
    ],
    "missingValues": ["", "-"],
}

EDGES: dict[str, list[str]] = {
    "int": ["0", "-5", "-6", "999", "1000", "007", " 12", "12 ", "1_000", "1.0", "1e3", "0x10", "+3", "-0", "-"],
    "big": ["1", "1", "999999999999999999", "9999999999999999999", "-9223372036854775809", "00001", "x"],
    "num": ["0", "0.0", ".5", "5.", "10", "10.0000001", "nan", "inf", "-1", "1e1", "1_0", " 3", "3.5.1", "."],
    "money": ["$1,234.50", "$5,000", "$5,000.01", "€-3", "1,,2", "$", "12$", "-$4", "1,234,567", "USD 12", "4.5%"],
    "plain": ["$12", "12 EUR", "-4", "x-4", "1.2.3", "..5", "12", "abc"],
    "when": ["2024-01-01T10:00:00", "2024-01-01T10:00:00Z", "2024-01-01T10:00:00+02:00", "1999-12-31T23:00:00",
             "1999-12-31T23:00:00-02:00", "0000-01-01T00:00:00", "2024-02-30T10:00:00", "2024-01-01T24:00:00",
             "2024-01-01T10:00:00+25:00", "2024-01-01T10:00:00 ", "2024-01-01 10:00:00", "2024-01-01T10:00",
             "2024-01-01T10:00:00.5Z", "2024-01-01t10:00:00"],
    "naive": ["2024-01-01T10:00:00", "1999-12-31T23:59:59", "2000-01-01T00:00:00", "0000-01-01T00:00:00",
              "2024-13-01T00:00:00", "2024-01-01 10:00:00", "1999-12-31 23:00:00"],
    "day": ["2024-02-29", "2023-02-29", "2031-01-01", "0000-01-01", "2024-1-5", "2024-01-01T00:00:00", " 2024-01-01"],
    "year": ["1901", "1900", "0000", "99", "2024 ", "+2024", "20_24"],
    "code": ["a", "b", "ab", "abc", "abcd", "x", "ba", ""],
    "mail": ["a@b.org", "C@D.ORG", "c@d.org", "x", "a@b", "n@a@b.org", "é@b.org", "a" * 65 + "@b.org"],
}


def _write(path: Path, rows: int, shift: int) -> None:
    names = [f["name"] for f in SCHEMA["fields"]]
    cycles = [itertools.cycle(EDGES[n][shift % len(EDGES[n]):] + EDGES[n][:shift % len(EDGES[n])]) for n in names]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(names)
        for _ in range(rows):
            out.writerow([next(c) for c in cycles])


@pytest.mark.parametrize("shift", [0, 3])
def test_edge_cells_give_the_errors_frictionless_gives(tmp_path: Path, shift: int) -> None:
    path = tmp_path / "edges.csv"
    _write(path, 200, shift)
    ours = check_file(path, SCHEMA)
    assert our_found(ours) == frictionless_found(path, SCHEMA)
    # the report-only entry counts the same errors
    assert validate_file(path, SCHEMA).stats["errors"] == ours.report.stats["errors"] > 0
