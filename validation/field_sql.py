"""Each Table Schema type as DuckDB SQL: when a text cell is missing, when it parses, and its typed value.

Every rule restates frictionless 5's value reader for that type (``frictionless/fields/*.py``) as an
expression over one text column, so a whole column is checked in one vectorised pass. Where a rule is an
approximation of a Python library (email, URI, base64, geojson, ISO durations) docs/validation.md says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from opendata.sql_text import quote_literal
from validation.schema_spec import FieldSpec

WS = "' \t\n\r\x0b\x0c'"  # what Python's str.strip() removes, ASCII part
SP = "[ \t\n\r\x0b\x0c]*"  # the same inside a regular expression (DuckDB's casts trim it themselves)
DIGITS = "[0-9](_?[0-9])*"  # Python int()/Decimal() accept underscores between digits
NUMBER = (
    f"[+-]?(({DIGITS}(\\.({DIGITS})?)?|\\.{DIGITS})([eE][+-]?{DIGITS})?"
    "|(?i:inf|infinity|nan[0-9]*|snan[0-9]*))"
)
INTEGER = f"[+-]?{DIGITS}"
TZ = "(Z|z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?"  # Python's offsets stay under 24 hours
ISO_TIME = "[0-9]{2}:[0-9]{2}:[0-9]{2}([.,][0-9]+)?" + TZ
DATE_DEFAULT = "([0-9]{4})-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12][0-9]|0[1-9]|[1-9]| [1-9])"
EMAIL_USER = "[0-9a-z!#$%&'*+/=?^_`{}|~\\-\\x{a0}-\\x{24f}]+(\\.[0-9a-z!#$%&'*+/=?^_`{}|~\\-\\x{a0}-\\x{24f}]+)*"
EMAIL_DOMAIN = "([a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?"
EMAIL_PLAIN = "[A-Za-z0-9_%+-]+(\\.[A-Za-z0-9_%+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}"
DURATION = (
    "[+-]?P([0-9]+([.,][0-9]+)?Y)?([0-9]+([.,][0-9]+)?M)?([0-9]+([.,][0-9]+)?W)?([0-9]+([.,][0-9]+)?D)?"
    "(T([0-9]+([.,][0-9]+)?H)?([0-9]+([.,][0-9]+)?M)?([0-9]+([.,][0-9]+)?S)?)?"
)
GEOJSON_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                 "GeometryCollection", "Feature", "FeatureCollection")


D2, D4 = "[0-9][0-9]", "[0-9][0-9][0-9][0-9]"




def lits(values: Any) -> str:
    return "[" + ", ".join(quote_literal(str(v)) for v in values) + "]::VARCHAR[]"


def full(expr: str, pattern: str) -> str:
    return f"regexp_full_match({expr}, {quote_literal(pattern)})"


@dataclass(frozen=True)
class TypeSql:
    """``ok``: a present (non-missing) cell parses. ``value``: its typed value; when ``by_value`` the value
    expression is NULL for a cell that does not parse (and ``ok`` is just that test), otherwise it is only
    meaningful where ``ok`` holds, so that the engine evaluates the costly ``ok`` once per cell."""

    ok: str
    value: str
    by_value: bool = False

    @property
    def guarded(self) -> str:
        return self.value if self.by_value else f"CASE WHEN {self.ok} THEN {self.value} END"


def _by_value(value: str) -> TypeSql:
    return TypeSql(f"({value} IS NOT NULL)", value, by_value=True)


def type_sql(spec: FieldSpec, x: str) -> TypeSql:
    """SQL for one field's type and format over the text expression ``x``."""
    kind, fmt = spec.type, spec.format
    if kind == "integer":
        s = x if spec.bare_number else f"regexp_replace(trim({x}, {WS}), '^[^-0-9]*|[^0-9]*$', '', 'g')"
        return TypeSql(full(s, SP + INTEGER + SP), f"TRY_CAST(replace({s}, '_', '') AS HUGEINT)")
    if kind == "number":
        return _number(spec, x)
    if kind == "boolean":
        known = lits([*spec.true_values, *spec.false_values])
        return TypeSql(f"list_contains({known}, {x})", f"list_contains({lits(spec.true_values)}, {x})")
    if kind == "date":
        return _date(fmt, x)
    if kind == "datetime":
        return _datetime(fmt, x)
    if kind == "time":
        return _time(fmt, x)
    if kind == "year":
        value = f"TRY_CAST(replace({x}, '_', '') AS INTEGER)"
        slow = f"(length({x}) = 4 AND {full(x, SP + INTEGER + SP)} AND {value} BETWEEN 0 AND 9999)"
        return TypeSql(f"({x} GLOB '{D4}' OR {slow})", value)
    if kind == "yearmonth":
        part = f"\\s*\\+?{DIGITS}\\s*"
        y = f"TRY_CAST(replace(trim(split_part({x}, '-', 1), {WS}), '_', '') AS BIGINT)"
        m = f"TRY_CAST(replace(trim(split_part({x}, '-', 2), {WS}), '_', '') AS BIGINT)"
        ok = f"({full(x, part + '-' + part)} AND {m} BETWEEN 1 AND 12)"
        return TypeSql(ok, f"{y} * 12 + {m} - 1")
    if kind == "duration":
        ok = f"({full(x, DURATION)} AND NOT regexp_full_match({x}, '[+-]?PT?') AND right({x}, 1) <> 'T')"
        return TypeSql(ok, x)
    if kind == "geopoint":
        return _geopoint(fmt, x)
    if kind in ("object", "array"):
        wanted = "OBJECT" if kind == "object" else "ARRAY"
        ok = f"(json_valid({x}) AND json_type(TRY_CAST({x} AS JSON)) = '{wanted}')"
        return TypeSql(ok, f"TRY_CAST({x} AS JSON)")
    if kind == "geojson":
        ok = (f"(json_valid({x}) AND json_type(TRY_CAST({x} AS JSON)) = 'OBJECT' AND "
              f"list_contains({lits(GEOJSON_TYPES)}, json_extract_string(TRY_CAST({x} AS JSON), '$.type')))")
        return TypeSql(ok, f"TRY_CAST({x} AS JSON)")
    if kind == "list":
        item = type_sql(FieldSpec(name="item", type=spec.item_type), "_item")
        parts = f"string_split({x}, {quote_literal(spec.delimiter)})"
        ok = f"list_bool_and(list_transform({parts}, _item -> coalesce({item.ok}, false)))"
        return TypeSql(ok, f"list_transform({parts}, _item -> {item.guarded})")
    if kind == "string":
        return TypeSql(_string_format(fmt, x), x)
    return TypeSql("true", x)  # any


def _number(spec: FieldSpec, x: str) -> TypeSql:
    s = x
    guard = "true"
    if spec.number_options_defined:
        if not spec.bare_number:
            s = f"regexp_replace({s}, '^[^-0-9]*|[^0-9]*$', '', 'g')"
        if spec.group_char:
            s = f"replace({s}, {quote_literal(spec.group_char)}, '')"
        if spec.decimal_char != ".":
            guard = f"NOT contains({s}, '.')"
            s = f"replace({s}, {quote_literal(spec.decimal_char)}, '.')"
        s = f"trim({s}, {WS})"
    ok = f"({guard} AND {full(s, SP + NUMBER + SP)})"
    return TypeSql(ok, f"TRY_CAST(replace({s}, '_', '') AS DOUBLE)")


def _date(fmt: str, x: str) -> TypeSql:
    if fmt == "default":  # strptime's %m and %d take one or two digits, %d also " 5"
        shape = full(x, "[0-9]{4}-(1[0-2]|0?[1-9])-(3[01]|[12][0-9]|0?[1-9]| [1-9])")
        slow = (f"CASE WHEN {shape} AND left({x}, 4) <> '0000' "
                f"THEN CAST(TRY_STRPTIME(replace({x}, '- ', '-'), '%Y-%m-%d') AS DATE) END")
        # the common shape first: a GLOB and DuckDB's own date cast are much cheaper than the regex
        return _by_value(f"CASE WHEN {x} GLOB '{D4}-{D2}-{D2}' THEN CASE WHEN left({x}, 4) <> '0000' "
                         f"THEN TRY_CAST({x} AS DATE) END ELSE {slow} END")
    if fmt == "any":
        return _by_value(f"CAST(opendata_parse_any({x}) AS DATE)")
    return _by_value(f"CAST(TRY_STRPTIME({x}, {quote_literal(fmt)}) AS DATE)")


def _datetime(fmt: str, x: str) -> TypeSql:
    if fmt == "default":
        shape = f"[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}.{ISO_TIME}"
        iso = f"(left({x}, 10) || ' ' || upper(replace(substr({x}, 12), ',', '.')))"
        # DuckDB's own cast reads the common shapes; the rebuilt string covers any separator, "z" and ","
        slow = (f"CASE WHEN {full(x, shape)} AND left({x}, 4) <> '0000' THEN CAST(coalesce("
                f"TRY_CAST({x} AS TIMESTAMPTZ), TRY_CAST({iso} AS TIMESTAMPTZ)) AS TIMESTAMP) END")
        naive = f"{D4}-{D2}-{D2}[T ]{D2}:{D2}:{D2}"
        year_ok = f"left({x}, 4) <> '0000'"
        return _by_value(
            f"CASE WHEN {x} GLOB '{naive}' AND {year_ok} THEN TRY_CAST({x} AS TIMESTAMP) "
            f"WHEN {x} GLOB '{naive}Z' AND {year_ok} THEN TRY_CAST(left({x}, 19) AS TIMESTAMP) "
            f"WHEN {x} GLOB '{naive}[-+][01][0-9]:[0-5][0-9]' AND {year_ok} "
            f"THEN CAST(TRY_CAST({x} AS TIMESTAMPTZ) AS TIMESTAMP) "
            f"ELSE {slow} END")
    if fmt == "any":
        return _by_value(f"opendata_parse_any({x})")
    return _by_value(f"TRY_STRPTIME({x}, {quote_literal(fmt)})")


def _time(fmt: str, x: str) -> TypeSql:
    if fmt == "default":
        bare = f"regexp_replace(replace({x}, ',', '.'), '(Z|z|[+-][0-9:]+)$', '')"
        return _by_value(f"CASE WHEN {full(x, ISO_TIME)} THEN TRY_CAST({bare} AS TIME) END")
    if fmt == "any":
        return _by_value(f"CAST(opendata_parse_any({x}) AS TIME)")
    return _by_value(f"CAST(TRY_STRPTIME({x}, {quote_literal(fmt)}) AS TIME)")


def _geopoint(fmt: str, x: str) -> TypeSql:
    if fmt == "array":
        lon, lat = f"TRY_CAST(json_extract({x}, '$[0]') AS DOUBLE)", f"TRY_CAST(json_extract({x}, '$[1]') AS DOUBLE)"
        shape = f"(json_valid({x}) AND json_array_length(TRY_CAST({x} AS JSON)) = 2)"
    elif fmt == "object":
        lon, lat = f"TRY_CAST(json_extract({x}, '$.lon') AS DOUBLE)", f"TRY_CAST(json_extract({x}, '$.lat') AS DOUBLE)"
        shape = f"(json_valid({x}) AND len(json_keys(TRY_CAST({x} AS JSON))) = 2)"
    else:
        pair = f"\\s*{NUMBER}\\s*,\\s*{NUMBER}\\s*"
        shape = full(x, pair)
        lon = f"TRY_CAST(replace(trim(split_part({x}, ',', 1), {WS}), '_', '') AS DOUBLE)"
        lat = f"TRY_CAST(replace(trim(split_part({x}, ',', 2), {WS}), '_', '') AS DOUBLE)"
    # Python's comparisons with NaN are false, so frictionless lets a NaN coordinate through.
    in_range = (f"(isnan({lon}) OR {lon} BETWEEN -180 AND 180) AND (isnan({lat}) OR {lat} BETWEEN -90 AND 90)")
    ok = f"coalesce({shape} AND {lon} IS NOT NULL AND {lat} IS NOT NULL AND {in_range}, false)"
    return TypeSql(ok, f"[{lon}, {lat}]")


def _string_format(fmt: str, x: str) -> str:
    if fmt == "email":
        user, domain = f"split_part({x}, '@', 1)", f"split_part({x}, '@', 2)"
        # a plain ASCII address (a strict subset of the full rule) first: one cheap regex for most cells
        return (f"((length({x}) <= 64 AND {full(x, EMAIL_PLAIN)}) OR "
                f"(length({x}) - length(replace({x}, '@', '')) = 1 AND length({user}) <= 64 AND "
                f"length({domain}) <= 253 AND regexp_full_match({user}, {quote_literal(EMAIL_USER)}, 'i') AND "
                f"regexp_full_match({domain}, {quote_literal(EMAIL_DOMAIN)}, 'i')))")
    if fmt == "uri":
        return f"regexp_matches({x}, '^[a-zA-Z][a-zA-Z0-9+.-]*:')"
    if fmt == "uuid":
        bare = f"replace(trim(replace(replace({x}, 'urn:', ''), 'uuid:', ''), '{{}}'), '-', '')"
        return full(bare, "[0-9a-fA-F]{32}")
    if fmt == "binary":
        data = f"regexp_replace(regexp_replace({x}, '=.*$', ''), '[^A-Za-z0-9+/]', '', 'g')"
        pads = f"length(regexp_replace(regexp_extract({x}, '=.*$'), '[^=]', '', 'g'))"
        return (f"(length({data}) % 4 = 0 OR (length({data}) % 4 = 2 AND {pads} >= 2) "
                f"OR (length({data}) % 4 = 3 AND {pads} >= 1))")
    return "true"


def literal_value(spec: FieldSpec, value: Any) -> str:
    """A constraint's value (an enum item, a bound) read with the field's own type, as frictionless does."""
    if isinstance(value, bool):
        return ("true" if value else "false") if spec.type == "boolean" else "NULL"
    if isinstance(value, float) and spec.type == "integer" and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float) and spec.type in ("integer", "number", "year"):
        return type_sql(spec, quote_literal(str(value))).guarded
    if not isinstance(value, str):
        return "NULL"
    return type_sql(spec, quote_literal(value)).guarded
