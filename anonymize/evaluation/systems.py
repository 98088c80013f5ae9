"""The detectors the evaluation compares, each returning entity spans per text.

* ``presidio-default``: Presidio's AnalyzerEngine with its default recognizers and threshold on the same
  spaCy model, called once per text (how Presidio is used on a table's cells).
* ``ours-engine``: our :class:`~anonymize.text_engine.TextEngine`, batched (used on small columns), with
  ``redact``'s default entities: personal data, places kept.
* ``ours-engine+places``: the same, also removing places (``redact: {entities: [..., LOCATION]}``).
* ``ours-cascade``: the learned-lexicon cascade of :mod:`anonymize.text_cascade` (used on large columns).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import lru_cache

from anonymize.recognizers import PERSONAL
from anonymize.text_cascade import Redactor
from anonymize.text_engine import DEFAULT_REDACT, text_engine

Spans = list[tuple[str, int, int]]
System = Callable[[Sequence[str]], list[Spans]]


@lru_cache(maxsize=2)
def presidio_default(model: str) -> object:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}],
    })
    return AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])


def presidio_per_cell(model: str) -> System:
    def run(texts: Sequence[str]) -> list[Spans]:
        engine = presidio_default(model)
        return [[(r.entity_type, r.start, r.end) for r in engine.analyze(text, language="en")]  # type: ignore[attr-defined]
                for text in texts]
    return run


def ours_engine(model: str, entities: Sequence[str] | None = None) -> System:
    def run(texts: Sequence[str]) -> list[Spans]:
        engine = text_engine(model)
        return [[(s.entity, s.start, s.end) for s in found] for found in engine.analyze(list(texts), entities=entities)]
    return run


def ours_cascade(model: str, workers: int = 1) -> System:
    def run(texts: Sequence[str]) -> list[Spans]:
        redactor = Redactor(model, workers)
        return [[(s.entity, s.start, s.end) for s in found] for found in redactor.spans(list(texts))]
    return run


def systems(model: str) -> dict[str, System]:
    return {"presidio-default": presidio_per_cell(model), "ours-engine": ours_engine(model),
            "ours-engine+places": ours_engine(model, [*DEFAULT_REDACT, *sorted(PERSONAL - set(DEFAULT_REDACT)),
                                                      "LOCATION"]),
            "ours-cascade": ours_cascade(model)}


def timed(system: System, texts: Sequence[str]) -> tuple[list[Spans], float]:
    started = time.perf_counter()
    found = system(texts)
    return found, time.perf_counter() - started
