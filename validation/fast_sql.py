"""Cheap sound tests of the common cell shapes, used to find the rows that need the full checks.

``cell_is_fine(spec, i, x)`` is SQL that is TRUE only when a present cell certainly passes its type and
every constraint but ``required``: a cheap shape test (a GLOB or one simple regular expression) and
DuckDB's own cast, whose value then equals ``field_sql.type_sql``'s. It may reject cells the full rule
accepts (those rows are simply checked again with the full rule), so every error is still decided by
``field_sql`` and ``engine``; this module only decides which rows can skip them. Where no cheap shape is
known, the full rule stands in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from opendata.sql_text import quote_literal
from validation.field_sql import D4, EMAIL_PLAIN, full, literal_value, type_sql
from validation.schema_spec import FieldSpec

YEAR = "([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"  # not 0000, which Python's datetime rejects
ISO_DATETIME = YEAR + "-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?"
# types whose values compare with plain SQL operators (never NaN, no JSON)
PLAIN = ("integer", "year", "date", "datetime", "time", "yearmonth", "string", "boolean")


@dataclass(frozen=True)
class FastCheck:
    """``shape`` AND ``value IS NOT NULL`` implies the full rule accepts the cell, with this value."""

    shape: str
    value: str
    plain: bool  # the value is never NaN, so constraints can be written directly on it
    sure: bool = False  # the shape alone implies that the value parses


def fast_check(spec: FieldSpec, x: str) -> FastCheck:
    kind = spec.type
    if kind == "integer" and spec.bare_number:
        # DuckDB's own cast also takes "1.5" and "0x10", hence the shape; 18 digits fit BIGINT
        return FastCheck(f"(length({x}) <= 18 AND NOT {x} GLOB '*[!0-9]*')", f"TRY_CAST({x} AS BIGINT)", True)
    if kind == "number":
        found = _number(spec, x)
        if found is not None:
            return found
    if kind == "year":
        return FastCheck(f"{x} GLOB '{D4}'", f"TRY_CAST({x} AS INTEGER)", True)
    if kind == "datetime" and spec.format == "default":
        return _datetime(x)
    if kind == "string" and spec.format == "email":
        return FastCheck(f"(length({x}) <= 64 AND {full(x, EMAIL_PLAIN)})", x, True, sure=True)
    slow = type_sql(spec, x)
    if slow.by_value:
        return FastCheck("true", slow.value, kind in PLAIN)
    return FastCheck(slow.ok, slow.guarded, kind in PLAIN, sure=True)


def cell_is_fine(spec: FieldSpec, x: str, generic_violations: list[str]) -> str:
    """TRUE only when the present cell ``x`` certainly passes its type and constraints (not ``required``).

    ``generic_violations`` are engine.constraint_checks over this check's value, used when the value may
    be NaN or JSON."""
    fast = fast_check(spec, x)
    terms = [] if fast.shape == "true" else [fast.shape]
    direct = _direct_constraints(spec, fast.value) if fast.plain else None
    if direct:
        terms += direct  # NULL (an unparsed cell) makes the whole test NULL, read as not fine
    else:
        if not fast.sure:
            terms.append(f"({fast.value}) IS NOT NULL")
        if direct is None and generic_violations:
            terms.append(f"NOT ({' OR '.join(generic_violations)})")
    return f"coalesce({' AND '.join(terms) or 'true'}, false)"


def _direct_constraints(spec: FieldSpec, v: str) -> list[str] | None:
    """The constraints as one test each over a non-NaN value ``v``; None when one needs the generic form."""
    out: list[str] = []
    active = spec.active_constraints()
    bounds = {k: active[k] for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if k in active}
    if bounds:
        lows = [f"{_typed(spec, bounds[k])} {op} ({v})" for k, op in (("minimum", "<="), ("exclusiveMinimum", "<"))
                if k in bounds]
        highs = [f"({v}) {op} {_typed(spec, bounds[k])}" for k, op in (("maximum", "<="), ("exclusiveMaximum", "<"))
                 if k in bounds]
        if "minimum" in bounds and "maximum" in bounds and len(bounds) == 2:
            out.append(f"({v}) BETWEEN {_typed(spec, bounds['minimum'])} AND {_typed(spec, bounds['maximum'])}")
        else:
            out += lows + highs
    if "enum" in active:
        if spec.type != "string":
            return None
        allowed = [quote_literal(item) for item in active["enum"] if isinstance(item, str)]
        out.append(f"({v}) IN ({', '.join(allowed)})" if allowed else "false")
    lengths = [(k, active[k]) for k in ("minLength", "maxLength") if k in active]
    if lengths:
        if spec.type != "string":
            return None
        out += [f"length({v}) {'>=' if k == 'minLength' else '<='} {int(n)}" for k, n in lengths]
    if "pattern" in active:
        out.append(f"regexp_full_match({v}, {quote_literal(str(active['pattern']))})")
    return out


def _typed(spec: FieldSpec, value: Any) -> str:
    return f"({literal_value(spec, value)})"


def _number(spec: FieldSpec, x: str) -> FastCheck | None:
    if spec.decimal_char != ".":
        return None
    group = spec.group_char or ""
    if len(group) > 1 or group in ("-", ".") or group.isdigit():
        return None
    if not spec.number_options_defined or (spec.bare_number and not group):
        # digits and dots only: DuckDB's cast then reads exactly what Python's Decimal reads
        return FastCheck(f"NOT {x} GLOB '*[!0-9.]*'", f"TRY_CAST({x} AS DOUBLE)", True)
    g = re.escape(group)
    digits = f"[0-9]([0-9{g}]*[0-9])?" if group else "[0-9]+"
    shape = f"-?{digits}(\\.[0-9]+)?"
    s = x
    if not spec.bare_number:
        # the full rule strips a leading run of [^-0-9] and a trailing run of [^0-9]; a shape that ends in a
        # digit leaves only the leading run to strip
        shape = "[^-0-9]*" + shape
        s = f"regexp_replace({x}, '^[^-0-9]*', '')"
    if group:
        s = f"replace({s}, {quote_literal(group)}, '')"
    return FastCheck(full(x, shape), f"TRY_CAST({s} AS DOUBLE)", True, sure=True)


def _datetime(x: str) -> FastCheck:
    """Where the full rule's shape holds, its value is DuckDB's TIMESTAMPTZ cast (in UTC) when that parses."""
    return FastCheck(full(x, ISO_DATETIME), f"CAST(TRY_CAST({x} AS TIMESTAMPTZ) AS TIMESTAMP)", True)
