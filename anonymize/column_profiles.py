"""Detections no single value shows: a column of birth dates, a latitude/longitude pair of columns, and
personal data nested in JSON.

* **Birth dates**: calendar dates without a time, in the common numeric and written forms (``3/29/1982``,
  ``1982-03-29``, ``29.03.1982``, ``March 29, 1982``, ``29 de marzo de 1982``), whose years spread over
  decades of the past (an event's dates fall within a few years).
* **Coordinate pairs**: two columns of decimal degrees with four or more decimals, one within ±90 (a
  latitude) and one within ±180: a location, which the policy must cover (keep, if the place is public).
* **JSON**: values that are JSON objects or arrays are flattened to their leaf paths
  (``contact.email``), and each path is detected like a column of its own.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from anonymize.report import Detection

_MONTHS = {
    name: number
    for number, names in enumerate((
        "january enero janvier janeiro jan ene janv",
        "february febrero fevrier fevereiro feb fev fevr",
        "march marzo mars marco mar",
        "april abril avril apr abr avr",
        "may mayo mai maio",
        "june junio juin junho jun juin",
        "july julio juillet julho jul juil",
        "august agosto aout aug ago",
        "september septiembre setiembre septembre setembro sep sept set",
        "october octubre octobre outubro oct out",
        "november noviembre novembre novembro nov",
        "december diciembre decembre dezembro dec dic dez",
    ), start=1)
    for name in names.split()
}
_NUMERIC = (
    (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$"), ("a", "b", "y")),
)
_WRITTEN = (
    re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$"),  # March 29, 1982
    re.compile(r"^(\d{1,2})(?:er|º)?\.?\s+(?:de\s+)?([a-z]+)\.?,?\s+(?:de\s+)?(\d{4})$"),  # 29 March 1982
)
#: A column is of birth dates when this share of its values are dates ...
DATE_SHARE = 0.8
#: ... whose years spread this much (standard deviation, years) ...
YEAR_SPREAD = 8.0
#: ... and lie between this many years ago and today.
OLDEST = 110
_FOLD = str.maketrans("áéíóúâêôãõçàèû", "aeiouaeoaocaeu")


def calendar_date(value: str, today: date | None = None) -> date | None:
    """The date a value spells, or None (a value with a time of day is not a birth date)."""
    text = value.strip().lower().translate(_FOLD)
    for pattern, order in _NUMERIC:
        m = pattern.match(text)
        if m:
            parts = dict(zip(order, (int(g) for g in m.groups()), strict=True))
            if "y" in parts and "a" in parts:  # day and month in either order: 3/29/1982 or 29/03/1982
                first, second = parts["a"], parts["b"]
                month, day = (first, second) if first <= 12 else (second, first)
                return _date(parts["y"], month, day)
            return _date(parts["y"], parts["m"], parts["d"])
    for i, pattern in enumerate(_WRITTEN):
        m = pattern.match(text)
        if m:
            groups = m.groups()
            month_name, day_text = (groups[0], groups[1]) if i == 0 else (groups[1], groups[0])
            named = _MONTHS.get(month_name)
            return _date(int(groups[2]), named, int(day_text)) if named else None
    return None


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def birth_dates(values: pa.Array, today: date | None = None) -> Detection | None:
    """A DATE_OF_BIRTH detection when the column's values are dates of people's births."""
    texts = [str(v) for v in values.to_pylist()]
    if not texts:
        return None
    today = today or date.today()
    dates = [d for d in (calendar_date(t) for t in texts) if d is not None]
    if len(dates) < max(1, DATE_SHARE * len(texts)):
        return None
    years = [d.year for d in dates]
    past = sum(1 for d in dates if today.year - OLDEST <= d.year and d <= today)
    if past < 0.9 * len(dates):
        return None
    spread = statistics.pstdev(years) if len(years) > 1 else 0.0
    # One or two values cannot show a spread: a date of a person's birth in a tiny table still counts
    # when it lies 16 years or more in the past.
    if len(years) >= 5 and spread < YEAR_SPREAD or len(years) < 5 and max(years) > today.year - 16:
        return None
    examples = [_mask_date(t) for t in texts[:3]]
    return Detection(entity="DATE_OF_BIRTH", source="values", count=len(dates), sampled=len(texts),
                     confidence=0.8, examples=examples)


def _mask_date(value: str) -> str:
    return re.sub(r"\d", "#", value)


_DECIMAL = r"^[+-]?\d{1,3}\.\d{4,}$"


def coordinate_pairs(table: pa.Table) -> dict[str, Detection]:
    """COORDINATE detections for the columns of a latitude/longitude pair, whatever they are called."""
    latitudes: list[str] = []
    longitudes: list[str] = []
    stats: dict[str, tuple[int, int]] = {}
    for name in table.column_names:
        column = table.column(name)
        values = pc.utf8_trim_whitespace(column.cast(pa.string()) if column.type != pa.string() else column)
        values = values.filter(pc.fill_null(pc.greater(pc.utf8_length(values), 0), False))
        n = len(values)
        if n == 0:
            continue
        shaped = values.filter(pc.fill_null(pc.match_substring_regex(values, _DECIMAL), False))
        if len(shaped) < 0.9 * n:
            continue
        numbers = pc.cast(shaped, pa.float64())
        low, high = pc.min(pc.abs(numbers)).as_py(), pc.max(pc.abs(numbers)).as_py()
        if high is None or high > 180 or low is None:
            continue
        stats[name] = (len(shaped), n)
        (latitudes if high <= 90 else longitudes).append(name)
    if not latitudes or len(latitudes) + len(longitudes) < 2:
        return {}
    return {
        name: Detection(entity="COORDINATE", source="values", count=stats[name][0], sampled=stats[name][1],
                        confidence=0.7, examples=["a latitude/longitude pair of columns"])
        for name in [*latitudes, *longitudes]
    }


#: JSON nested deeper than this is read no further (its leaves are not detected).
MAX_JSON_DEPTH = 8
_JSON_START = r"^\s*[\[{]"

ColumnDetector = Callable[[str, pa.Array], list[Detection]]


def json_leaves(values: pa.Array) -> dict[str, list[str]] | None:
    """Leaf values by path (``contact.email``, ``parties[].name``) when most values are JSON documents."""
    texts = values.filter(pc.fill_null(pc.match_substring_regex(values, _JSON_START), False)).to_pylist()
    if not texts or len(texts) < 0.5 * len(values):
        return None
    leaves: dict[str, list[str]] = {}
    parsed = 0
    for text in texts:
        try:
            document = json.loads(str(text))
        except (ValueError, RecursionError):
            continue
        parsed += 1
        _walk(document, "", leaves, 0)
    return leaves if parsed >= 0.5 * len(texts) else None


def _walk(node: Any, path: str, leaves: dict[str, list[str]], depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            _walk(value, f"{path}.{key}" if path else str(key), leaves, depth + 1)
    elif isinstance(node, list):
        for item in node:
            _walk(item, f"{path}[]", leaves, depth + 1)
    elif node is not None and not isinstance(node, bool):
        leaves.setdefault(path or "(value)", []).append(str(node))


def json_detections(name: str, values: pa.Array, detect: ColumnDetector) -> list[Detection] | None:
    """Detections inside a JSON column, one per entity, their examples naming the path; None: not JSON."""
    leaves = json_leaves(values)
    if leaves is None:
        return None
    found: dict[str, Detection] = {}
    for path, texts in leaves.items():
        leaf_name = path.replace("[]", "").rsplit(".", 1)[-1]
        for detection in detect(leaf_name, pa.array(texts, pa.string())):
            labelled = detection.model_copy(update={
                "examples": [f"{name}.{path}: {e}" for e in detection.examples] or [f"{name}.{path}"],
            })
            previous = found.get(detection.entity)
            if previous is None or labelled.confidence > previous.confidence:
                found[detection.entity] = labelled
    return list(found.values())
