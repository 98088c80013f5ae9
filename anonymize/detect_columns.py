"""Structured detection: what personal data each column holds, from its name and a sample of values.

Values are matched vectorised (pyarrow.compute over the whole sample); only two small samples go
through the free-text engine: long multi-word values (FREE_TEXT), and short capitalised values that
might be people's names. Detection runs on every column whatever its name or the table's size: one
row's free text with a name in it is personal data. JSON values are detected path by path, and
distributions (birth dates) by :mod:`anonymize.column_profiles`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from anonymize.column_profiles import birth_dates, coordinate_pairs, json_detections
from anonymize.name_rules import name_rules, normalize_name
from anonymize.recognizers import PERSONAL, recognizers
from anonymize.report import Detection
from anonymize.text_engine import DETECTION_SCORE, Span, TextEngine

#: Free text: values of at least this many words and characters ...
FREE_TEXT_WORDS, FREE_TEXT_CHARS = 4, 25
#: ... in at least this share of the sample.
FREE_TEXT_SHARE = 0.3
#: Free text varies: at least this share of its long values are distinct.
MIN_DISTINCT = 0.1
#: How many distinct values of a column the free-text engine looks at.
TEXT_SAMPLE = 120

_NAME_SHAPE = r"^\p{Lu}[\p{L}'.-]+(\s+(\p{Lu}[\p{L}'.-]*|de|du|del|la|le|van|von|der|da|di|y)){1,4}$"
_IDENTIFIER_NAME = re.compile(
    r"(^|_)(id|key|number|no|num|nr|code|count|amount|total|qty|quantity|year)(_|$)"
)

EngineFactory = Callable[[], TextEngine]


def sample_rows(table: pa.Table, rows: int) -> pa.Table:
    """Evenly spread rows, so a file sorted by date or by area is sampled across its length."""
    if table.num_rows <= rows:
        return table
    return table.take(pa.array(np.linspace(0, table.num_rows - 1, rows).astype(np.int64)))


def mask_example(value: str) -> str:
    """A shape a privacy officer can recognise, never the value: ``j***@e******.test``."""
    if "@" in value:
        local, _, domain = value.partition("@")
        host, _, tld = domain.rpartition(".")
        return f"{_mask_runs(local)}@{_mask_runs(host)}.{tld}" if host else f"{_mask_runs(local)}@***"
    return _mask_runs(value)


def _mask_runs(value: str) -> str:
    return re.sub(r"[^\W_]+", lambda m: m.group(0)[0] + "*" * (len(m.group(0)) - 1), value)


def detect_column(name: str, column: pa.ChunkedArray | pa.Array, engine: EngineFactory) -> list[Detection]:
    """Every entity the column's name or its sampled values point to (at most one detection per entity)."""
    values = pc.utf8_trim_whitespace(_as_array(column).drop_null())
    values = values.filter(pc.greater(pc.utf8_length(values), 0))
    sampled = len(values)
    found: dict[str, Detection] = {}

    normalized = normalize_name(name)
    for rule in name_rules():
        if rule.entity not in found and rule.matches(normalized):
            found[rule.entity] = Detection(
                entity=rule.entity, source="name", count=sampled, sampled=sampled,
                confidence=rule.confidence, examples=_examples(values, None),
            )
    if sampled == 0:
        return list(found.values())
    nested = json_detections(name, values, lambda leaf, leaf_values: detect_column(leaf, leaf_values, engine))
    if nested is not None:
        for detection in nested:
            found.setdefault(detection.entity, detection)
        return list(found.values())

    identifier_like = _IDENTIFIER_NAME.search(normalized) is not None
    for recognizer in recognizers():
        if recognizer.entity == "POSTCODE" and identifier_like:
            continue
        hits = recognizer.match(values)
        count = pc.sum(hits).as_py() or 0
        if count and count >= recognizer.min_share * sampled:
            share = count / sampled
            detection = Detection(
                entity=recognizer.entity, source="values", count=count, sampled=sampled,
                confidence=round(min(1.0, recognizer.score * (0.5 + share / 2)), 3),
                examples=_examples(values, hits),
            )
            previous = found.get(recognizer.entity)
            found[recognizer.entity] = detection if previous is None else previous.model_copy(
                update={"confidence": max(previous.confidence, detection.confidence), "count": count}
            )

    born = birth_dates(values)
    if born is not None:
        previous_dob = found.get("DATE_OF_BIRTH")
        found["DATE_OF_BIRTH"] = born if previous_dob is None else previous_dob
    structured = any(d.source == "values" and d.count >= 0.5 * sampled for d in found.values())
    for detection in [] if structured else _text_detections(values, engine, skip="PERSON" in found):
        found.setdefault(detection.entity, detection)
    return list(found.values())


def detect_table(sample: pa.Table, engine: EngineFactory) -> dict[str, list[Detection]]:
    """Each column's detections, a latitude/longitude pair of columns included (what no column shows alone)."""
    pairs = coordinate_pairs(sample)
    found: dict[str, list[Detection]] = {}
    for name in sample.column_names:
        column = sample.column(name)
        detections = detect_column(name, column if column.type == pa.string() else column.cast(pa.string()), engine)
        if name in pairs and all(d.entity != "COORDINATE" for d in detections):
            detections.append(pairs[name])
        found[name] = detections
    return found


def _text_detections(values: pa.Array, engine: EngineFactory, skip: bool) -> list[Detection]:
    sampled = len(values)
    words = pc.add(pc.count_substring_regex(values, r"\s+"), 1)
    long_values = pc.and_(
        pc.greater_equal(words, FREE_TEXT_WORDS), pc.greater_equal(pc.utf8_length(values), FREE_TEXT_CHARS)
    )
    long_count = pc.sum(long_values).as_py() or 0
    distinct_long = pc.count_distinct(values.filter(long_values)).as_py() if long_count else 0
    if long_count:
        # Every long value may hold a name or a phone, one row as much as a million: any text with
        # personal data in it makes the column personal (fail closed).
        texts = _distinct(values.filter(long_values))
        per_entity = _entities_per_text(engine().analyze(texts, min_score=DETECTION_SCORE))
        personal = {e: n for e, n in per_entity.items() if e in PERSONAL}
        summary = ", ".join(f"{e} in {len(n)}" for e, n in sorted(personal.items()))
        detections = [
            Detection(entity=e, source="text", count=len(n), sampled=len(texts), confidence=0.8, examples=[])
            for e, n in sorted(personal.items())
        ]
        # A handful of long values repeated (agency names, category labels) is not free text.
        varied = distinct_long >= min(5, long_count) and distinct_long >= MIN_DISTINCT * long_count
        if long_count >= FREE_TEXT_SHARE * sampled and varied:
            detections.insert(0, Detection(
                entity="FREE_TEXT", source="values", count=long_count, sampled=sampled,
                confidence=0.9 if personal else 0.5,
                examples=[f"personal data found: {summary} of {len(texts)} texts"] if summary else [],
            ))
            return detections
        if detections:
            return detections
    if skip:
        return []
    shaped = pc.fill_null(pc.match_substring_regex(values, _NAME_SHAPE), False)
    if (pc.sum(shaped).as_py() or 0) < 0.5 * sampled:
        return []
    names = _distinct(values.filter(shaped), limit=50)
    spans = engine().analyze(names, min_score=0.6)
    people = [
        text for text, found in zip(names, spans, strict=True)
        if any(s.entity == "PERSON" and s.end - s.start >= 0.6 * len(text) for s in found)
    ]
    if len(people) < max(2, 0.3 * len(names)):
        return []
    return [Detection(
        entity="PERSON", source="text", count=len(people), sampled=len(names),
        confidence=round(0.5 + 0.4 * len(people) / len(names), 3),
        examples=[mask_example(p) for p in people[:3]],
    )]


def _entities_per_text(results: list[list[Span]]) -> dict[str, list[int]]:
    """entity -> indices of texts holding it; ``"*"`` -> per text, how many personal findings."""
    per: dict[str, list[int]] = {"*": []}
    for i, spans in enumerate(results):
        entities = {s.entity for s in spans}
        for entity in entities:
            per.setdefault(entity, []).append(i)
        per["*"].append(sum(1 for e in entities if e in PERSONAL))
    return per


def _distinct(values: pa.Array, limit: int = TEXT_SAMPLE) -> list[str]:
    unique = pc.unique(values)
    if len(unique) > limit:
        unique = unique.take(pa.array(np.linspace(0, len(unique) - 1, limit).astype(np.int64)))
    return [str(v) for v in unique.to_pylist()]


def _examples(values: pa.Array, hits: pa.Array | None) -> list[str]:
    picked = values if hits is None else values.filter(hits)
    return [mask_example(str(v)) for v in pc.unique(picked.slice(0, 50)).to_pylist()[:3]]


def _as_array(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column
