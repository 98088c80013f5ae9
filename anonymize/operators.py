"""The policy's actions, one function each, registered by name through :class:`Operator`.

An operator takes a text column and the rule's parameters and returns the new column (``None``: the
column is dropped) and how many values it changed. Nulls stay null. A parameter that cannot work raises
``ValueError``; the pipeline turns it into a :class:`~opendata.errors.JobFileError` naming the column.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from anonymize.detect_columns import mask_example
from anonymize.generalize import generalize
from anonymize.keys import pseudonym_key
from anonymize.recognizers import PERSONAL
from anonymize.report import Replacement
from anonymize.text_cascade import CASCADE_MIN_TEXTS, Redactor, apply_spans
from anonymize.text_engine import TEXT_ENTITIES, Span, TextEngine, text_engine
from opendata.settings import Settings


@dataclass(frozen=True)
class Applied:
    values: pa.Array | None
    changed: int
    unparseable: int = 0
    replaced: Mapping[str, int] = field(default_factory=dict)  # redact: entity -> findings replaced
    examples: list[Replacement] = field(default_factory=list)  # a few values before and after, masked


@dataclass(frozen=True)
class Redacted:
    """One distinct text after redaction, and the entities replaced in it."""

    text: str
    entities: tuple[str, ...]
    example: Replacement | None


@dataclass
class OperatorContext:
    """What operators may need beyond the column: settings, the pseudonym key, the text engine."""

    settings: Settings
    _key: bytes | None = field(default=None, repr=False)

    def key(self) -> bytes:
        if self._key is None:
            self._key = pseudonym_key(self.settings)
        return self._key

    @property
    def used_key(self) -> bytes | None:
        """The pseudonym key, if an operator asked for it (its id goes in the report)."""
        return self._key

    def engine(self) -> TextEngine:
        return text_engine(self.settings.spacy_model)

    def redactor(self, entities: tuple[str, ...] | None = None) -> Redactor:
        """Large redactions: the learned-name cascade, spaCy shared across ``text_workers`` processes."""
        return Redactor(self.settings.spacy_model, self.settings.text_workers, entities=entities)


class Operator(Protocol):
    def __call__(self, values: pa.Array, params: Mapping[str, Any], context: OperatorContext) -> Applied: ...


_OPERATORS: dict[str, Operator] = {}


def register_operator(name: str) -> Callable[[Operator], Operator]:
    def add(operator: Operator) -> Operator:
        _OPERATORS[name] = operator
        return operator
    return add


def operator(name: str) -> Operator:
    try:
        return _OPERATORS[name]
    except KeyError:
        raise ValueError(f"unknown action {name!r}; known: {', '.join(sorted(_OPERATORS))}") from None


def count_changed(before: pa.Array, after: pa.Array) -> int:
    """Values that differ, a value turned null counting as changed."""
    differs = pc.fill_null(pc.not_equal(before, after), True)
    both_null = pc.and_(pc.is_null(before), pc.is_null(after))
    return int(pc.sum(pc.and_(differs, pc.invert(both_null))).as_py() or 0)


def int_param(params: Mapping[str, Any], name: str, default: int, low: int = 0, high: int = 10**9) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high} (got {value!r})")
    return value


@register_operator("keep")
def keep(values: pa.Array, params: Mapping[str, Any], context: OperatorContext) -> Applied:
    return Applied(values, 0)


@register_operator("drop")
def drop(values: pa.Array, params: Mapping[str, Any], context: OperatorContext) -> Applied:
    return Applied(None, len(values) - values.null_count)


def redact_entities(params: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``redact: {entities: [PERSON, PHONE_NUMBER]}``: what to remove; None: every personal entity."""
    entities = params.get("entities")
    if entities is None:
        return None
    known = set(TEXT_ENTITIES) | PERSONAL
    unknown = sorted(str(e) for e in entities if e not in known)
    if unknown:
        raise ValueError(f"redact entities {', '.join(unknown)} are not known; known: {', '.join(sorted(known))}")
    return tuple(str(e) for e in entities)


def redact_texts(texts: list[str], params: Mapping[str, Any], context: OperatorContext) -> list[Redacted]:
    """Each distinct text redacted, with the entities replaced in it and a masked before/after example."""
    entities = redact_entities(params)
    if not texts:
        return []
    if len(texts) < CASCADE_MIN_TEXTS:
        found = context.engine().analyze(texts, entities=entities)
    else:
        found = context.redactor(entities).spans(texts)
    return [_redacted(text, spans) for text, spans in zip(texts, found, strict=True)]


def _redacted(text: str, spans: list[Span]) -> Redacted:
    if not spans:
        return Redacted(text, (), None)
    after = apply_spans(text, spans)
    before = text
    for span in sorted(spans, key=lambda s: s.start, reverse=True):
        before = before[:span.start] + mask_example(text[span.start:span.end]) + before[span.end:]
    start = max(0, spans[0].start - 60)
    example = Replacement(before=_clip(before, start), after=_clip(after, start))
    return Redacted(after, tuple(s.entity for s in spans), example)


def _clip(text: str, start: int, width: int = 200) -> str:
    clipped = text[start:start + width]
    return ("…" if start else "") + clipped + ("…" if start + width < len(text) else "")


def redacted_column(values: pa.Array, done: Mapping[str, Redacted]) -> Applied:
    """The column with each text's redaction, and what was replaced, counted over every row."""
    encoded = pc.dictionary_encode(values)
    texts = [str(v) for v in encoded.dictionary.to_pylist()]
    results = [done[t] for t in texts]
    out = pa.array([r.text for r in results], pa.string()).take(encoded.indices)
    rows = np.bincount(encoded.indices.drop_null().to_numpy(zero_copy_only=False), minlength=len(texts))
    replaced: dict[str, int] = {}
    for result, n in zip(results, rows.tolist(), strict=True):
        for entity in result.entities:
            replaced[entity] = replaced.get(entity, 0) + int(n)
    examples = [r.example for r in results if r.example is not None][:3]
    return Applied(out, count_changed(values, out), replaced=replaced, examples=examples)


@register_operator("redact")
def redact(values: pa.Array, params: Mapping[str, Any], context: OperatorContext) -> Applied:
    texts = [str(v) for v in pc.unique(values.drop_null()).to_pylist()]
    done = dict(zip(texts, redact_texts(texts, params, context), strict=True))
    return redacted_column(values, done)


@register_operator("mask")
def mask(values: pa.Array, params: Mapping[str, Any], context: OperatorContext) -> Applied:
    keep_last = int_param(params, "keep_last", params.get("value", 4), 0, 1000)
    length = pc.utf8_length(values)
    shown = pc.if_else(pc.greater(length, keep_last), keep_last, 0)
    stars = pc.binary_repeat("*", pc.subtract(length, shown))
    if keep_last:
        tail = pc.if_else(pc.greater(shown, 0), pc.utf8_slice_codeunits(values, start=-keep_last), "")
    else:
        tail = pc.utf8_slice_codeunits(values, 0, 0)
    out = pc.binary_join_element_wise(stars, tail, "")
    out = pc.if_else(pc.is_null(values), pa.scalar(None, pa.string()), out)
    return Applied(out, count_changed(values, out))


@register_operator("pseudonymize")
def pseudonymize(values: pa.Array, params: Mapping[str, Any], context: OperatorContext) -> Applied:
    length = int_param(params, "length", 16, 8, 64)
    key = context.key()
    trimmed = pc.utf8_trim_whitespace(values)
    trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    encoded = pc.dictionary_encode(trimmed)
    tokens = [
        hmac.new(key, str(v).encode("utf-8"), hashlib.sha256).hexdigest()[:length]
        for v in encoded.dictionary.to_pylist()
    ]
    out = pa.array(tokens, pa.string()).take(encoded.indices)
    return Applied(out, count_changed(values, out))


@register_operator("generalize")
def generalize_operator(values: pa.Array, params: Mapping[str, Any], context: OperatorContext) -> Applied:
    out = generalize(values, params)
    return Applied(out, count_changed(values, out), unparseable=out.null_count - values.null_count)


def suppress_params(params: Mapping[str, Any]) -> tuple[int, str]:
    """``suppress``'s (min_count, other)."""
    return int_param(params, "min_count", 10, 1), str(params.get("other", "other"))


def replace_rare(values: pa.Array, rare: pa.Array, other: str) -> Applied:
    """``other`` in place of each value in ``rare`` (nulls stay null): suppress, once the rare values are known
    (the chunked stage counts them over the whole file first)."""
    out = pc.if_else(pc.fill_null(pc.is_in(values, value_set=rare), False), other, values)
    return Applied(out, count_changed(values, out))


@register_operator("suppress")
def suppress(values: pa.Array, params: Mapping[str, Any], context: OperatorContext) -> Applied:
    min_count, other = suppress_params(params)
    counts = pc.value_counts(values.drop_null())
    rare = pc.filter(counts.field("values"), pc.less(counts.field("counts"), min_count))
    return replace_rare(values, rare, other)
