"""Infer a Table Schema from a table's first rows, as frictionless's detector does.

Which cells parse as which candidate type is one DuckDB query over the sample (the same SQL the
validator uses); frictionless's scoring (candidates in its order, confidence 0.9, missing cells lower
the bar) then runs over that small boolean matrix. ``starting_schema`` adds what a steward edits next:
``required`` where no sampled cell was missing and ``enum`` candidates for few distinct values.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from validation.field_sql import lits, type_sql
from validation.schema_spec import FieldSpec

CANDIDATES = ["yearmonth", "geopoint", "duration", "geojson", "object", "array", "datetime", "time", "date",
              "integer", "number", "boolean", "year", "string"]
SAMPLE_ROWS = 100  # rows frictionless reads to detect a schema, the header row included
CONFIDENCE = 0.9
MISSING = [""]


def _names(labels: list[str]) -> list[str]:
    # frictionless: a blank label is field<position>; a repeat becomes the first free <name>2, <name>3, ...
    names = [label if label else f"field{i}" for i, label in enumerate(labels, start=1)]
    used: set[str] = set()
    out = []
    for name in names:
        new, suffix = name, 2
        while new in used:
            new, suffix = f"{name}{suffix}", suffix + 1
        used.add(new)
        out.append(new)
    return out


def _parse_matrix(cells: pa.Table, width: int) -> list[list[list[bool | None]]]:
    """[row][column][candidate]: True parses, False does not, None missing value (not scored)."""
    con = duckdb.connect(config={"threads": 1})
    try:
        con.register("cells", cells)
        selects = []
        for i in range(1, width + 1):
            c = f"c{i}"
            for kind in CANDIDATES:
                ok = type_sql(FieldSpec(name="shared", type=kind), c).ok
                selects.append(f"CASE WHEN {c} IS NULL THEN true WHEN list_contains({lits(MISSING)}, {c}) "
                               f"THEN NULL ELSE coalesce({ok}, false) END")
        rows = con.execute(f"SELECT {', '.join(selects) or 'NULL'} FROM cells ORDER BY _row").fetchall()
    finally:
        con.close()
    k = len(CANDIDATES)
    return [[list(row[i * k:(i + 1) * k]) for i in range(width)] for row in rows]


def infer_fields(labels: list[str], cells: pa.Table) -> list[dict[str, Any]]:
    """One field descriptor per label, typed as frictionless would type it from the same rows."""
    names = _names(labels)
    sample = cells.sort_by("_row").slice(0, SAMPLE_ROWS - 1)
    matrix = _parse_matrix(sample, len(names))
    n = len(matrix)
    threshold = n * (CONFIDENCE - 1)
    chosen: list[str | None] = [None] * len(names)
    for index in range(len(names)):
        scores = [0] * len(CANDIDATES)
        max_score = n
        for row in matrix:
            results = row[index]
            is_missing = results[0] is None
            if is_missing:
                max_score -= 1
            for k, parsed in enumerate(results):
                if scores[k] < threshold:
                    continue
                if not is_missing:
                    scores[k] += 1 if parsed else -1
                if max_score > 0 and scores[k] >= max_score * CONFIDENCE:
                    chosen[index] = CANDIDATES[k]
                    break
            if chosen[index] is not None:
                break
    return [{"name": name, "type": kind or "any"} for name, kind in zip(names, chosen, strict=True)]


def infer_schema(labels: list[str], cells: pa.Table) -> dict[str, Any]:
    return {"fields": infer_fields(labels, cells)}


def starting_schema(labels: list[str], cells: pa.Table, *, enum_max: int = 10) -> dict[str, Any]:
    """An inferred schema with ``required`` and ``enum`` candidates, read from every row (not a sample)."""
    fields = infer_fields(labels, cells)
    con = duckdb.connect(config={"threads": 2})
    try:
        con.register("cells", cells)
        for i, descriptor in enumerate(fields, start=1):
            c = f"c{i}"
            missing, distinct, total = con.execute(
                f"SELECT count(*) FILTER ({c} IS NULL OR {c} = ''), count(DISTINCT {c}) FILTER ({c} <> ''), "
                f"count(*) FROM cells").fetchone() or (0, 0, 0)
            constraints: dict[str, Any] = {}
            if total and not missing:
                constraints["required"] = True
            if descriptor["type"] == "string" and 0 < distinct <= enum_max and total >= 4 * distinct:
                values = con.execute(f"SELECT DISTINCT {c} FROM cells WHERE {c} <> '' ORDER BY 1").fetchall()
                constraints["enum"] = [v[0] for v in values]
            if constraints:
                descriptor["constraints"] = constraints
    finally:
        con.close()
    return {"fields": fields, "missingValues": list(MISSING)}
