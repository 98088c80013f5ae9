"""Helpers of the validation tests: frictionless's own answer, ours, and generated dirty tables."""

from __future__ import annotations

import csv
import random
import warnings
from pathlib import Path
from typing import Any

from tests.conftest import REPO
from validation import TableCheck

FIXTURES = REPO / "tests" / "data" / "frictionless"
ROW_LEVEL = ("blank-row", "primary-key", "foreign-key")
Found = set[tuple[int | None, str | None, str]]


def frictionless_found(path: Path, schema: dict[str, Any] | None = None, package: Path | None = None,
                       resource: str | None = None, limit_errors: int = 100_000) -> Found:
    """The (rowNumber, fieldName, type) set frictionless.validate reports."""
    import frictionless

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if package is not None:
            report = frictionless.Package(str(package)).get_resource(resource or "").validate()
        else:
            options: dict[str, Any] = {"path": path.name, "basepath": str(path.parent)}
            if schema is not None:
                options["schema"] = frictionless.Schema.from_descriptor(schema)
            report = frictionless.Resource(**options).validate(limit_errors=limit_errors)
    found: Found = set()
    for task in report.tasks:
        for error in task.errors:
            d = error.to_descriptor()
            found.add((d.get("rowNumber"), d.get("fieldName"), d["type"]))
    return found


def our_found(check: TableCheck) -> Found:
    """Every error we find: the header's (listed in the report) and all row errors (not capped)."""
    found: Found = {(e.rowNumber, e.fieldName, e.type) for e in check.report.errors if e.rowNumber is None}
    for e in check.row_errors.to_pylist():
        found.add((e["rowNumber"], None if e["type"] in ROW_LEVEL else e["fieldName"], e["type"]))
    return found


GENERATED_SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"required": True, "unique": True}},
        {"name": "code", "type": "string", "constraints": {"pattern": "[A-Z]{3}"}},
        {"name": "category", "type": "string", "constraints": {"enum": ["bus", "tram", "ferry"]}},
        {"name": "amount", "type": "number", "constraints": {"minimum": 0, "maximum": 1000}},
        {"name": "count", "type": "integer", "constraints": {"minimum": 0, "maximum": 499}},
        {"name": "day", "type": "date"},
        {"name": "seen", "type": "datetime", "constraints": {"required": True}},
        {"name": "flag", "type": "boolean"},
        {"name": "year", "type": "year", "constraints": {"minimum": 1990}},
        {"name": "name", "type": "string", "constraints": {"minLength": 2, "maxLength": 12}},
        {"name": "email", "type": "string", "format": "email"},
        {"name": "price", "type": "number", "bareNumber": False, "groupChar": ","},
    ],
    "primaryKey": ["id"],
    "missingValues": ["", "NA"],
}

_GOOD = {
    "code": lambda r: r.choice(["ABC", "XYZ", "QRS"]),
    "category": lambda r: r.choice(["bus", "tram", "ferry"]),
    "amount": lambda r: f"{r.uniform(0, 1000):.2f}",
    "count": lambda r: str(r.randint(0, 499)),
    "day": lambda r: f"20{r.randint(10, 24)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
    "seen": lambda r: f"2024-0{r.randint(1, 9)}-1{r.randint(0, 9)}T{r.randint(10, 23)}:{r.randint(10, 59)}:00"
    + r.choice(["", "Z", "+02:00"]),
    "flag": lambda r: r.choice(["true", "false", "1", "0", "TRUE"]),
    "year": lambda r: str(r.randint(1990, 2030)),
    "name": lambda r: r.choice(["Ana", "Bo", "Chidi", "Dara Kim"]),
    "email": lambda r: r.choice(["a@example.org", "bo.li@city.gov", ""]),
    "price": lambda r: f"${r.randint(1, 9)},{r.randint(100, 999)}.{r.randint(10, 99)}",
}
_BAD = {
    "id": ["x1", "1.5", "", "NA"],
    "code": ["abc", "ABCD", "AB1"],
    "category": ["Bus", "plane"],
    "amount": ["-1", "1000.5", "ten", "nan", "1e9"],
    "count": ["500", "-3", "2.0", "3 "],
    "day": ["2024-13-01", "2024-02-30", "01/02/2024", "2024-1-5", "0000-01-01"],
    "seen": ["2024-01-01", "2024-01-01 10:00:00", "2024-01-01T25:00:00", "NA", "2024-01-01T10:00"],
    "flag": ["yes", "True ", "t"],
    "year": ["1989", "99", "20x4", "+999"],
    "name": ["A", "a very long name indeed"],
    "email": ["not-an-email", "a@b", "two@@signs.org"],
    "price": ["abc", "€12", "1.2.3"],
}


def write_generated_table(path: Path, rows: int, seed: int, bad_share: float = 0.05) -> None:
    """A CSV matching GENERATED_SCHEMA, with invalid cells, duplicate ids, short, long and blank rows."""
    rng = random.Random(seed)
    names = [f["name"] for f in GENERATED_SCHEMA["fields"]]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(names)
        for i in range(1, rows + 1):
            row = [str(i)] + [_GOOD[n](rng) for n in names[1:]]
            for k, name in enumerate(names):
                if rng.random() < bad_share:
                    row[k] = rng.choice(_BAD[name])
            roll = rng.random()
            if roll < 0.01:
                row = row[: rng.randint(1, len(row) - 1)]
            elif roll < 0.02:
                row = row + ["extra"] * rng.randint(1, 2)
            elif roll < 0.025:
                row = [""] * len(row)
            elif roll < 0.035 and i > 1:
                row[0] = str(rng.randint(1, i - 1))
            out.writerow(row)
