"""``generalize`` methods: coarser values that still answer most questions.

============  ==================================  =============================================
method        parameters                          output
============  ==================================  =============================================
round         ``digits`` (2)                      ``40.7128`` -> ``40.71`` (coordinates, amounts)
date          ``to``: day|week|month|year (day)   ``YYYY-MM-DD`` (week: its Monday), ``YYYY-MM``,
                                                  ``YYYY``; ISO or US ``MM/DD/YYYY`` input
hour          (none)                              ``2013-04-01 08:47:00`` -> ``2013-04-01T08:00:00``
bins          ``width`` (10)                      ``27`` -> ``20-29``
band          ``width`` (10)                      birth year ``1984`` or date -> ``1980-1989``
prefix        ``length`` (3)                      ``SW1A 1AA`` -> ``SW1``
grid          ``size`` in degrees (0.01)          ``40.71277`` -> ``40.715`` (the centre of its
                                                  cell; on latitude and longitude alike, the pair
                                                  names one grid cell of about 1.1 km x 0.8 km)
============  ==================================  =============================================

Every method is vectorised with pyarrow.compute. A value a method cannot read becomes null (and so
counts among the changed values in the report).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

Method = Callable[[pa.Array, Mapping[str, Any]], pa.Array]
_METHODS: dict[str, Method] = {}
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_NULL = pa.scalar(None, pa.string())


def register_method(name: str) -> Callable[[Method], Method]:
    def add(method: Method) -> Method:
        _METHODS[name] = method
        return method
    return add


def generalize(values: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    method = params.get("method")
    if method not in _METHODS:
        raise ValueError(f"generalize method must be one of {', '.join(sorted(_METHODS))} (got {method!r})")
    return _METHODS[str(method)](values, params)


def parse_numbers(values: pa.Array) -> pa.Array:
    """float64, null where the text is not a plain number."""
    trimmed = pc.utf8_trim_whitespace(values)
    ok = pc.fill_null(pc.match_substring_regex(trimmed, _NUMBER), False)
    return pc.cast(pc.if_else(ok, trimmed, _NULL), pa.float64())


def parse_timestamps(values: pa.Array, with_time: bool = False) -> pa.Array:
    """timestamp[s], null where the text is no real date (2013-02-30 is refused, not rolled over).

    Accepts ``YYYY-MM-DD`` with an optional ``T``/space time, and US ``MM/DD/YYYY`` with an optional
    time (``08:47:00 PM`` too). With ``with_time`` a value without a time is refused.
    """
    text = pc.utf8_trim_whitespace(values)
    iso = pc.extract_regex(text, r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[T ](?P<t>.*))?$")
    us = pc.extract_regex(text, r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})(?:[ T](?P<t>.*))?$")
    parts = {
        name: pc.coalesce(_group(iso, name), _group(us, name)) for name in ("y", "m", "d", "t")
    }
    day = pc.binary_join_element_wise(
        parts["y"], pc.utf8_lpad(parts["m"], 2, "0"), pc.utf8_lpad(parts["d"], 2, "0"), "-"
    )
    clock = pc.extract_regex(
        pc.fill_null(parts["t"], ""),
        r"^(?P<h>\d{1,2}):(?P<mi>\d{2})(?::\d{2}(?:\.\d+)?)?\s*(?P<ap>[AaPp][Mm])?",
    )
    hour = pc.cast(_group(clock, "h"), pa.int64())
    meridian = pc.utf8_upper(_group(clock, "ap"))
    pm = pc.fill_null(pc.equal(meridian, "PM"), False)
    am = pc.fill_null(pc.equal(meridian, "AM"), False)
    hour = pc.if_else(pc.and_(pm, pc.less(hour, 12)), pc.add(hour, 12), hour)
    hour = pc.if_else(pc.and_(am, pc.equal(hour, 12)), 0, hour)
    stamp = pc.binary_join_element_wise(
        day, pc.utf8_lpad(pc.cast(hour, pa.string()), 2, "0"), " "
    )
    if with_time:
        parsed = pc.strptime(stamp, format="%Y-%m-%d %H", unit="s", error_is_null=True)
    else:
        parsed = pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2013-02-30 over to 2013-03-02: keep only dates that read back the same.
    same = pc.fill_null(pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), day), False)
    return pc.if_else(same, parsed, pa.scalar(None, parsed.type))


def _group(matches: pa.Array, name: str) -> pa.Array:
    """One regex group: null where the row did not match or the group was empty."""
    part = pc.struct_field(matches, name)
    return pc.if_else(pc.equal(part, ""), _NULL, part)


def _width(params: Mapping[str, Any], default: float = 10) -> float:
    width = params.get("width", default)
    if isinstance(width, bool) or not isinstance(width, int | float) or width <= 0:
        raise ValueError(f"width must be a positive number (got {width!r})")
    return float(width)


def _label_ranges(numbers: pa.Array, width: float) -> pa.Array:
    low = pc.multiply(pc.floor(pc.divide(numbers, width)), width)
    if width.is_integer():
        low_int = pc.cast(low, pa.int64())
        high = pc.add(low_int, int(width) - 1)
        return pc.binary_join_element_wise(pc.cast(low_int, pa.string()), pc.cast(high, pa.string()), "-")
    high_f = pc.add(low, width)
    return pc.binary_join_element_wise(pc.cast(low, pa.string()), pc.cast(high_f, pa.string()), "-")


@register_method("round")
def round_numbers(values: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    digits = params.get("digits", 2)
    if isinstance(digits, bool) or not isinstance(digits, int) or not -6 <= digits <= 12:
        raise ValueError(f"digits must be a whole number from -6 to 12 (got {digits!r})")
    return pc.cast(pc.round(parse_numbers(values), digits), pa.string())


@register_method("date")
def truncate_date(values: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    to = params.get("to", "day")
    stamps = parse_timestamps(values)
    if to == "day":
        return pc.strftime(stamps, format="%Y-%m-%d")
    if to == "week":
        return pc.strftime(pc.floor_temporal(stamps, unit="week", week_starts_monday=True), format="%Y-%m-%d")
    if to == "month":
        return pc.strftime(stamps, format="%Y-%m")
    if to == "year":
        return pc.strftime(stamps, format="%Y")
    raise ValueError(f"date 'to' must be day, week, month or year (got {to!r})")


@register_method("hour")
def truncate_hour(values: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    return pc.strftime(parse_timestamps(values, with_time=True), format="%Y-%m-%dT%H:00:00")


@register_method("bins")
def bins(values: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    return _label_ranges(parse_numbers(values), _width(params))


@register_method("band")
def band(values: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    """Birth years or ages in bands; a full date counts by its year."""
    year = _group(pc.extract_regex(pc.utf8_trim_whitespace(values), r"^(?P<y>\d{4})[-/]"), "y")
    us_year = _group(pc.extract_regex(pc.utf8_trim_whitespace(values), r"^\d{1,2}/\d{1,2}/(?P<y>\d{4})"), "y")
    numbers = parse_numbers(pc.coalesce(year, us_year, values))
    return _label_ranges(numbers, _width(params))


@register_method("prefix")
def prefix(values: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    length = params.get("length", 3)
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"length must be a positive whole number (got {length!r})")
    trimmed = pc.utf8_trim_whitespace(values)
    out = pc.utf8_slice_codeunits(trimmed, 0, length)
    return pc.if_else(pc.equal(trimmed, ""), _NULL, out)


@register_method("grid")
def grid_cell(values: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    """Snap a coordinate to the centre of its grid cell: every point of a cell publishes the same value."""
    size = params.get("size", 0.01)
    if isinstance(size, bool) or not isinstance(size, int | float) or not 0 < size <= 10:
        raise ValueError(f"size must be a number of degrees above 0 and at most 10 (got {size!r})")
    numbers = parse_numbers(values)
    centre = pc.add(pc.multiply(pc.floor(pc.divide(numbers, float(size))), float(size)), size / 2)
    digits = max(0, -int(math.floor(math.log10(size / 2)))) + 1
    return pc.cast(pc.round(centre, digits), pa.string())
