"""The full checks: text cells in, every frictionless row and cell error out, as SQL.

The cells arrive as a DuckDB relation ``cells(_row, _width, c1 .. cN)``: ``_row`` is frictionless's
row number (the header is row 1), ``_width`` how many cells the row really had (missing cells are NULL),
and ``c<i>`` the text of the cell for expected field ``i``. ``parse_cells`` parses the cells into typed
values and flags (``parsed``; in the pipeline only the cells ``validation.suspects`` flagged); each error
kind is then one columnar scan, and uniqueness, primary and foreign keys are window functions and
anti-joins over every row's key values. The error queries are unioned into one ``errors`` view.
Nothing loops over cells in Python.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from opendata.errors import SchemaInvalid
from opendata.sql_text import quote_literal
from validation.field_sql import literal_value, lits, type_sql
from validation.schema_spec import FieldSpec, TableSpec, read_table_schema

NUMERIC = ("integer", "number", "year")


@dataclass(frozen=True)
class Reference:
    """A table a foreign key points to: text cells with their Table Schema, or an already typed table."""

    table: pa.Table
    table_schema: dict[str, Any] | None = None


def col(i: int) -> str:
    return f"c{i}"


def constraint_checks(spec: FieldSpec, i: int, v: str) -> list[tuple[str, str]]:
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
                items = ", ".join(f"TRY_CAST({quote_literal(json.dumps(item))} AS JSON)" for item in value)
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
            checks.append((name, f"{v} IS NOT NULL AND NOT regexp_matches({v}, {quote_literal(anchored)})"))
    return checks


def _length(spec: FieldSpec, v: str) -> str:
    if spec.type == "array":
        return f"json_array_length({v})"
    if spec.type == "object":
        return f"len(json_keys({v}))"
    if spec.type == "list":
        return f"len({v})"
    return f"length({v})"


def missing_sql(spec: FieldSpec, c: str) -> str:
    if not spec.missing_values:
        return f"({c} IS NULL)"
    return f"({c} IS NULL OR {c} IN ({', '.join(quote_literal(v) for v in spec.missing_values)}))"


def parse_cells(con: duckdb.DuckDBPyConnection, fields: Sequence[FieldSpec], source: str = "cells",
                flagged: bool = False) -> dict[tuple[int, str], Any]:
    """Create ``parsed``: per field the missing flag m, the typed value v, the type-error flag t and one
    flag k per violated constraint. Returns the constraint values, keyed by (field number, name).

    The first pass stores m and the typed value (NULL for a missing cell or one that does not parse), so
    each cell is parsed once; the flags are a view over it. With ``flagged`` the source has the missing
    flag ``m<i>`` and a flag ``s<i>`` per field (``validation.suspects``), and only flagged cells are
    parsed and can hold an error.
    """
    first = ["_row", "_width"]
    for i, spec in enumerate(fields, start=1):
        c, sql = col(i), type_sql(spec, col(i))
        if flagged:  # the source has m and s (and c only where s is set)
            first += [c, f"m{i}", f"CASE WHEN s{i} AND NOT m{i} THEN {sql.guarded} END AS v{i}", f"s{i}"]
        else:
            missing = missing_sql(spec, c)
            first += [c, f"{missing} AS m{i}", f"CASE WHEN NOT {missing} THEN {sql.guarded} END AS v{i}",
                      f"true AS s{i}"]
    blank = " AND ".join(f"m{i}" for i in range(1, len(fields) + 1)) or "false"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE parsed1 AS
        SELECT *, {blank} AS _blank FROM (SELECT {', '.join(first)} FROM {source})""")

    second = ["_row", "_width", "_blank"]
    constraint_values: dict[tuple[int, str], Any] = {}
    for i, spec in enumerate(fields, start=1):
        second += [col(i), f"m{i}", f"(s{i} AND NOT m{i} AND v{i} IS NULL) AS t{i}", f"v{i}"]
        for name, violated in constraint_checks(spec, i, f"v{i}"):
            constraint_values[(i, name)] = spec.constraints[name]
            second.append(f"coalesce(s{i} AND ({violated}), false) AS k{i}_{name}")
    # A view: each error scan below computes only the one flag it filters on.
    con.execute(f"CREATE OR REPLACE TEMP VIEW parsed AS SELECT {', '.join(second)} FROM parsed1")
    return constraint_values


def create_errors(con: duckdb.DuckDBPyConnection, selects: Sequence[str], name: str = "errors") -> None:
    """The view ``errors(_row, field_number, field_name, type, cell, note, check_order)``: every error
    query's rows, ``check_order`` being the query's position (which orders errors of one cell). A view, not
    a table: the caller reads it once, or stores it when memory must stay bounded."""
    body = " UNION ALL ".join(f"SELECT *, {k} FROM ({select})" for k, select in enumerate(selects)) \
        or "SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE false"
    con.execute(f"""CREATE OR REPLACE TEMP VIEW {name} AS
        SELECT CAST(a AS BIGINT) AS _row, CAST(b AS INTEGER) AS field_number, CAST(c AS VARCHAR) AS field_name,
               CAST(d AS VARCHAR) AS type, CAST(e AS VARCHAR) AS cell, CAST(f AS VARCHAR) AS note,
               CAST(g AS INTEGER) AS check_order
        FROM ({body}) t(a, b, c, d, e, f, g)""")


def cell_errors(fields: Sequence[FieldSpec], constraint_values: Mapping[tuple[int, str], Any]) -> list[str]:
    """Type, constraint and missing-cell errors, and blank rows; each one columnar scan of ``parsed``."""
    inserts: list[str] = []
    for i, spec in enumerate(fields, start=1):
        name = quote_literal(spec.name)
        type_note = quote_literal(f'type is "{spec.type}/{spec.format}"')
        inserts.append(f"SELECT _row, {i}, {name}, 'type-error', c{i}, {type_note} FROM parsed "
                       f"WHERE t{i} AND NOT _blank")
        for (fi, cname), value in constraint_values.items():
            if fi == i:
                note = f'constraint "{cname}" is "{value}"'
                inserts.append(f"SELECT _row, {i}, {name}, 'constraint-error', coalesce(c{i}, ''), "
                               f"{quote_literal(note)} FROM parsed WHERE k{i}_{cname} AND NOT _blank")
        inserts.append(f"SELECT _row, {i}, {name}, 'missing-cell', '', '' FROM parsed "
                       f"WHERE _width < {i} AND NOT _blank")
    inserts.append("SELECT _row, NULL, NULL, 'blank-row', NULL, '' FROM parsed WHERE _blank")
    return inserts


def _duplicated(con: duckdb.DuckDBPyConnection, relation: str, values: Sequence[str], where: str) -> str:
    """A table of the rows of ``relation`` (filtered by ``where``) whose key repeats, each with the row where
    it was first seen (``prev``). Windowing only repeated keys keeps the sort small; a unique field that is
    also the primary key is windowed once."""
    name = "dup_" + hashlib.sha1(f"{relation}|{values}|{where}".encode()).hexdigest()[:16]
    same = " AND ".join(f"r.{v} IS NOT DISTINCT FROM d.{v}" for v in values)
    con.execute(f"""CREATE TEMP TABLE IF NOT EXISTS {name} AS SELECT * FROM (
        SELECT r.*, lag(r._row) OVER (PARTITION BY {', '.join(f'r.{v}' for v in values)} ORDER BY r._row) AS prev
        FROM (SELECT * FROM {relation} WHERE {where}) r
        SEMI JOIN (SELECT {', '.join(values)} FROM {relation} WHERE {where} GROUP BY ALL HAVING count(*) > 1) d
          ON {same})
        WHERE prev IS NOT NULL""")
    return name


def unique_errors(con: duckdb.DuckDBPyConnection, fields: Sequence[FieldSpec], relation: str = "parsed") -> list[str]:
    selects: list[str] = []
    for i, spec in enumerate(fields, start=1):
        if not spec.unique:
            continue
        # NaN never equals itself in Python, so frictionless never reports NaNs as duplicates.
        skip_nan = f" AND NOT isnan(v{i})" if spec.type == "number" else ""
        selects.append(f"""
            SELECT _row, {i}, {quote_literal(spec.name)}, 'unique-error', c{i},
                'the same as in the row at position ' || prev
            FROM {_duplicated(con, relation, [f"v{i}"], f"v{i} IS NOT NULL{skip_nan}")}""")
    return selects


def primary_key_errors(con: duckdb.DuckDBPyConnection, fields: Sequence[FieldSpec], key: Sequence[str],
                       relation: str = "parsed") -> list[str]:
    numbers = _numbers(fields, key)
    if not key or numbers is None:
        return []
    all_null = " AND ".join(f"v{i} IS NULL" for i in numbers)
    any_value = " OR ".join(f"v{i} IS NOT NULL" for i in numbers)
    return [f"""SELECT _row, NULL, NULL, 'primary-key', NULL, 'cells composing the primary keys are all "None"'
                FROM {relation} WHERE {all_null}""",
            f"""SELECT _row, NULL, NULL, 'primary-key', NULL, 'the same as in the row at position ' || prev
                FROM {_duplicated(con, relation, [f"v{i}" for i in numbers], any_value)}"""]


def foreign_key_errors(con: duckdb.DuckDBPyConnection, fields: Sequence[FieldSpec], spec: TableSpec,
                       references: Mapping[str, Reference], relation: str = "parsed") -> list[str]:
    """Each foreign key's anti-join, stored once in ``fk_errors_<n>`` (it reads every row)."""
    selects: list[str] = []
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
            con.execute(f"CREATE OR REPLACE TEMP TABLE {lookup} AS SELECT {', '.join(ref_cols)} FROM {relation}")
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
        con.execute(f"""CREATE OR REPLACE TEMP TABLE fk_errors_{number} AS
            SELECT p._row AS a, NULL AS b, NULL AS c, 'foreign-key' AS d, NULL AS e, {note} AS f FROM {relation} p
            WHERE ({not_all_null}) AND NOT EXISTS (
                SELECT 1 FROM {lookup} l WHERE ({not_all_null_ref}) AND {cond})""")
        selects.append(f"SELECT * FROM fk_errors_{number}")
    return selects


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
