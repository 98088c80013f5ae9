"""The vectorised validator: a table of text cells in, every frictionless row and cell error out.

The cells arrive as a DuckDB relation ``cells(_row, _width, c1 .. cN)``: ``_row`` is frictionless's
row number (the header is row 1), ``_width`` how many cells the row really had (missing cells are NULL),
and ``c<i>`` the text of the cell for expected field ``i``. One pass parses every column into typed
values and flags (``parsed``); each error kind is then one columnar scan, and uniqueness, primary and
foreign keys are window functions and anti-joins. Nothing loops over cells in Python.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from opendata.errors import SchemaInvalid
from validation.field_sql import lit, literal_value, lits, type_sql
from validation.schema_spec import FieldSpec, TableSpec, read_table_schema

NUMERIC = ("integer", "number", "year")


@dataclass(frozen=True)
class Reference:
    """A table a foreign key points to: text cells with their Table Schema, or an already typed table."""

    table: pa.Table
    table_schema: dict[str, Any] | None = None


def col(i: int) -> str:
    return f"c{i}"


def _constraint_checks(spec: FieldSpec, i: int, v: str) -> list[tuple[str, str]]:
    """(constraint name, SQL that is TRUE when the parsed cell, typed value ``v``, violates it)."""
    m = f"m{i}"
    checks: list[tuple[str, str]] = []
    for name, value in spec.active_constraints().items():
        if name == "required":
            if value:
                checks.append((name, m))
        elif name == "enum":
            items = ", ".join(literal_value(spec, item) for item in value)
            if spec.type in ("object", "array", "geojson"):
                items = ", ".join(f"TRY_CAST({lit(json.dumps(item))} AS JSON)" for item in value)
            checks.append((name, f"{v} IS NOT NULL AND NOT coalesce(list_contains([{items}], {v}), false)"))
        elif name in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            op = {"minimum": "<", "maximum": ">", "exclusiveMinimum": "<=", "exclusiveMaximum": ">="}[name]
            bound = literal_value(spec, value)
            nan = f"isnan({v}) OR " if spec.type == "number" else ""
            checks.append((name, f"{v} IS NOT NULL AND coalesce({nan}{v} {op} {bound}, true)"))
        elif name in ("minLength", "maxLength"):
            size = _length(spec, v)
            op = "<" if name == "minLength" else ">"
            checks.append((name, f"{v} IS NOT NULL AND {size} {op} {int(value)}"))
        elif name == "pattern":
            # re.match("^{p}$") anchors at the start only through the outer ^: "a|b" means "^a|b$".
            anchored = f"^(?:^{value}$)"
            checks.append((name, f"{v} IS NOT NULL AND NOT regexp_matches({v}, {lit(anchored)})"))
    return checks


def _length(spec: FieldSpec, v: str) -> str:
    if spec.type == "array":
        return f"json_array_length({v})"
    if spec.type == "object":
        return f"len(json_keys({v}))"
    if spec.type == "list":
        return f"len({v})"
    return f"length({v})"


def parse_cells(con: duckdb.DuckDBPyConnection, fields: Sequence[FieldSpec]) -> dict[tuple[int, str], Any]:
    """Create ``parsed``: per field the missing flag m, the typed value v, the type-error flag t and one
    flag k per violated constraint. Returns the constraint values, keyed by (field number, name).

    The first pass stores m and the typed value (NULL for a missing cell or one that does not parse), so
    each cell is parsed once; the flags are a view over it.
    """
    first = ["_row", "_width"]
    for i, spec in enumerate(fields, start=1):
        c, sql = col(i), type_sql(spec, col(i))
        missing = f"({c} IS NULL OR {c} IN ({', '.join(lit(v) for v in spec.missing_values)}))" \
            if spec.missing_values else f"({c} IS NULL)"
        first += [c, f"{missing} AS m{i}", f"CASE WHEN NOT {missing} THEN {sql.guarded} END AS v{i}"]
    con.execute(f"CREATE OR REPLACE TEMP TABLE parsed1 AS SELECT {', '.join(first)} FROM cells")

    second = ["_row", "_width", (" AND ".join(f"m{i}" for i in range(1, len(fields) + 1)) or "false") + " AS _blank"]
    constraint_values: dict[tuple[int, str], Any] = {}
    for i, spec in enumerate(fields, start=1):
        second += [col(i), f"m{i}", f"(NOT m{i} AND v{i} IS NULL) AS t{i}", f"v{i}"]
        for name, violated in _constraint_checks(spec, i, f"v{i}"):
            constraint_values[(i, name)] = spec.constraints[name]
            second.append(f"coalesce(({violated}), false) AS k{i}_{name}")
    # A view: each error scan below computes only the one flag it filters on.
    con.execute(f"CREATE OR REPLACE TEMP VIEW parsed AS SELECT {', '.join(second)} FROM parsed1")
    return constraint_values


ERRORS_DDL = """CREATE OR REPLACE TEMP TABLE errors (
    _row BIGINT, field_number INTEGER, field_name VARCHAR, type VARCHAR, cell VARCHAR, note VARCHAR)"""


def cell_errors(con: duckdb.DuckDBPyConnection, fields: Sequence[FieldSpec],
                constraint_values: Mapping[tuple[int, str], Any]) -> None:
    """Type, constraint and missing-cell errors, and blank rows; each one columnar scan of ``parsed``."""
    inserts: list[str] = []
    for i, spec in enumerate(fields, start=1):
        name = lit(spec.name)
        type_note = lit(f'type is "{spec.type}/{spec.format}"')
        inserts.append(f"SELECT _row, {i}, {name}, 'type-error', c{i}, {type_note} FROM parsed "
                       f"WHERE t{i} AND NOT _blank")
        for (fi, cname), value in constraint_values.items():
            if fi == i:
                note = f'constraint "{cname}" is "{value}"'
                inserts.append(f"SELECT _row, {i}, {name}, 'constraint-error', coalesce(c{i}, ''), {lit(note)} "
                               f"FROM parsed WHERE k{i}_{cname} AND NOT _blank")
        inserts.append(f"SELECT _row, {i}, {name}, 'missing-cell', '', '' FROM parsed "
                       f"WHERE _width < {i} AND NOT _blank")
    inserts.append("SELECT _row, NULL, NULL, 'blank-row', NULL, '' FROM parsed WHERE _blank")
    for select in inserts:
        con.execute(f"INSERT INTO errors {select}")


def unique_errors(con: duckdb.DuckDBPyConnection, fields: Sequence[FieldSpec]) -> None:
    for i, spec in enumerate(fields, start=1):
        if not spec.unique:
            continue
        # NaN never equals itself in Python, so frictionless never reports NaNs as duplicates.
        skip_nan = f" AND NOT isnan(v{i})" if spec.type == "number" else ""
        con.execute(f"""INSERT INTO errors
            SELECT _row, {i}, {lit(spec.name)}, 'unique-error', c{i},
                   'the same as in the row at position ' || prev
            FROM (SELECT _row, c{i}, lag(_row) OVER (PARTITION BY v{i} ORDER BY _row) AS prev
                  FROM parsed WHERE v{i} IS NOT NULL{skip_nan})
            WHERE prev IS NOT NULL""")


def primary_key_errors(con: duckdb.DuckDBPyConnection, fields: Sequence[FieldSpec], key: Sequence[str]) -> None:
    numbers = _numbers(fields, key)
    if not key or numbers is None:
        return
    values = ", ".join(f"v{i}" for i in numbers)
    all_null = " AND ".join(f"v{i} IS NULL" for i in numbers)
    con.execute(f"""INSERT INTO errors
        SELECT _row, NULL, NULL, 'primary-key', NULL,
               CASE WHEN {all_null} THEN 'cells composing the primary keys are all "None"'
                    ELSE 'the same as in the row at position ' || prev END
        FROM (SELECT _row, {values}, lag(_row) OVER (PARTITION BY {values} ORDER BY _row) AS prev FROM parsed)
        WHERE ({all_null}) OR prev IS NOT NULL""")


def foreign_key_errors(con: duckdb.DuckDBPyConnection, fields: Sequence[FieldSpec], spec: TableSpec,
                       references: Mapping[str, Reference]) -> None:
    for number, fk in enumerate(spec.foreign_keys):
        numbers = _numbers(fields, fk.fields)
        if numbers is None:
            continue
        lookup = f"lookup_{number}"
        if fk.resource == "":
            ref_types = [fields[i - 1].type for i in _numbers(fields, fk.reference_fields) or []]
            if len(ref_types) != len(fk.reference_fields):
                continue
            ref_cols = [f"v{i}" for i in _numbers(fields, fk.reference_fields) or []]
            con.execute(f"CREATE OR REPLACE TEMP TABLE {lookup} AS SELECT {', '.join(ref_cols)} FROM parsed")
        elif fk.resource in references:
            ref_types, ref_cols = _load_reference(con, lookup, references[fk.resource], fk.reference_fields)
        else:
            raise SchemaInvalid(
                f"foreign key {list(fk.fields)} refers to '{fk.resource}', which is not a published dataset; "
                "publish it first or fix reference.resource")
        pairs = list(zip([f"v{i}" for i in numbers], ref_cols, strict=True))
        mine = [fields[i - 1].type for i in numbers]
        cond = " AND ".join(_same(f"p.{a}", f"l.{b}", ta, tb)
                            for (a, b), ta, tb in zip(pairs, mine, ref_types, strict=True))
        not_all_null_ref = " OR ".join(f"l.{b} IS NOT NULL" for _, b in pairs)
        not_all_null = " OR ".join(f"p.{a} IS NOT NULL" for a, _ in pairs)
        shown = " || ', ' || ".join(f"coalesce(CAST(p.{a} AS VARCHAR), 'None')" for a, _ in pairs)
        note = (f"'for \"{', '.join(fk.fields)}\": values \"' || {shown} || '\" not found in the lookup table "
                f"\"{fk.resource}\" as \"{', '.join(fk.reference_fields)}\"'")
        con.execute(f"""INSERT INTO errors
            SELECT p._row, NULL, NULL, 'foreign-key', NULL, {note} FROM parsed p
            WHERE ({not_all_null}) AND NOT EXISTS (
                SELECT 1 FROM {lookup} l WHERE ({not_all_null_ref}) AND {cond})""")


def _same(a: str, b: str, type_a: str, type_b: str) -> str:
    if type_a in NUMERIC and type_b in NUMERIC:
        return f"TRY_CAST({a} AS DOUBLE) IS NOT DISTINCT FROM TRY_CAST({b} AS DOUBLE)"
    return f"CAST({a} AS VARCHAR) IS NOT DISTINCT FROM CAST({b} AS VARCHAR)"


def _numbers(fields: Sequence[FieldSpec], names: Sequence[str]) -> list[int] | None:
    by_name = {f.name: i for i, f in reversed(list(enumerate(fields, start=1)))}
    if not all(n in by_name for n in names):
        return None
    return [by_name[n] for n in names]


def _load_reference(con: duckdb.DuckDBPyConnection, lookup: str, ref: Reference,
                    names: Sequence[str]) -> tuple[list[str], list[str]]:
    missing = [n for n in names if n not in ref.table.column_names]
    if missing:
        raise SchemaInvalid(f"the referenced table has no field(s) {missing}")
    cols = [f"r{i}" for i in range(len(names))]
    con.register(f"{lookup}_src", ref.table)
    if ref.table_schema is None:  # already typed: a published release's data
        types = ["number" if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
                 else "string" for t in (ref.table.schema.field(n).type for n in names)]
        selects = [f'"{n}" AS {c}' for n, c in zip(names, cols, strict=True)]
    else:
        spec = read_table_schema(ref.table_schema)
        types, selects = [], []
        for n, c in zip(names, cols, strict=True):
            fspec = spec.get(n) or FieldSpec(name=n)
            types.append(fspec.type)
            x = f'"{n}"'
            missing_sql = f"({x} IS NULL OR list_contains({lits(fspec.missing_values)}, {x}))"
            typed = type_sql(fspec, x)
            selects.append(f"CASE WHEN NOT {missing_sql} AND coalesce({typed.ok}, false) THEN {typed.value} END AS {c}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {lookup} AS SELECT {', '.join(selects)} FROM {lookup}_src")
    con.unregister(f"{lookup}_src")
    return types, cols
