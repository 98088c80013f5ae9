"""Free text: Presidio's AnalyzerEngine on the offline spaCy model, plus our recognizers.

Presidio is loaded once per process and spaCy model (about a second). Texts are deduplicated by the
caller and batched through ``nlp.pipe``; texts without letters skip spaCy and meet only our recognizers.

Presidio's misfires on open data are kept out by asking only for :data:`TEXT_ENTITIES` (no UK_NHS, no
US_DRIVER_LICENSE, no URL inside an e-mail), by our own e-mail recognizer (Presidio's misses ``.test``
domains), and by a proper-noun recognizer that catches the names the small model labels ORG or misses.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")  # before presidio: no network

from presidio_analyzer import (  # noqa: E402
    AnalyzerEngine,
    BatchAnalyzerEngine,
    EntityRecognizer,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngineProvider, SpacyNlpEngine  # noqa: E402

from anonymize.recognizers import PERSONAL, Recognizer, recognizers, registry_key  # noqa: E402
from anonymize.span_evidence import person_span, public_contact  # noqa: E402
from opendata.errors import ConfigurationError  # noqa: E402

# Presidio logs every recognizer for other languages and every unmapped spaCy label at WARNING.
logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)

#: What free text is analysed for, and the tag each finding becomes (``<PERSON>``, ...).
TEXT_ENTITIES = (
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS",
    "LOCATION", "STREET_ADDRESS",
)
#: What ``redact`` removes unless the policy lists its own ``entities``: personal data, not places.
#: (Registered personal entities, such as DATE_OF_BIRTH and VEHICLE_PLATE, are added by the engine.)
DEFAULT_REDACT = tuple(e for e in TEXT_ENTITIES if e != "LOCATION")
#: The adapter name of the recognizer of labelled names (``VICTIM(S): ...``).
LABELLED_PERSON = "opendata-PERSON"
#: Below this score a finding is redacted but does not count as a detection.
DETECTION_SCORE = 0.5
REDACTION_SCORE = 0.3
_SPACY_PIPES_UNUSED = ("parser", "lemmatizer", "senter")
_NAME_PARTICLES = frozenset({
    "de", "du", "del", "della", "des", "la", "le", "van", "von", "der", "den", "da", "di", "dos", "das",
    "y", "e", "zu", "ter", "ten", "al", "bin", "ibn",
})
_NOT_NAMES = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "QUANTITY", "PERCENT"})
# A capitalised run holding one of these words names an institution or a place, not a person:
# "The Department of Transportation", "Police Department", "Housing Preservation and Development".
_INSTITUTION_WORDS = frozenset("""
    department agency office bureau police division unit board authority commission council committee
    service services administration corporation company inc llc ltd university college school hospital
    center centre court library museum transit transportation sanitation housing preservation development
    environmental protection buildings finance health fire parks recreation education county state city
    national federal ministry government weather emergency management
""".split())
_SEGMENT_JOINERS = frozenset({"and", "&", "the"})
_HEAD_LINKS = frozenset({"of", "for"})


def _titled(word: str) -> bool:
    return word[:1].isupper() and word[:1].isalpha() and not (word.isupper() and len(word) > 3)


def _institution_tokens(tokens: Any) -> set[int]:
    """Token indices inside an institution's name, linked to an institution word by "and", or following
    one through "of"/"for": "Taxi and Limousine Commission", "Department of Consumer Affairs". A name
    before "of" keeps its own reading: in "James Smith of the City Police", James Smith is a person."""
    found: set[int] = set()
    segment: list[int] = []
    segment_is_institution = False
    after_head = False  # the previous segment was an institution and a head link followed it

    def end_segment() -> None:
        nonlocal segment, segment_is_institution
        titled = [i for i in segment if _titled(tokens[i].text)]
        if segment_is_institution or after_head:
            found.update(titled)
        segment, segment_is_institution = [], False

    for token in tokens:
        word = token.text
        lowered = word.lower()
        if _titled(word) or (segment and lowered in _SEGMENT_JOINERS):
            segment.append(token.i)
            segment_is_institution |= lowered in _INSTITUTION_WORDS
        elif not segment and after_head and lowered == "the":
            continue  # "Department for the Aging"
        elif segment and lowered in _HEAD_LINKS:
            linked = segment_is_institution or after_head
            end_segment()
            after_head = linked
        else:
            end_segment()
            after_head = False
    end_segment()
    return found


@dataclass(frozen=True)
class Span:
    entity: str
    start: int
    end: int
    score: float


class RecognizerAdapter(EntityRecognizer):
    """Presents one of our recognizers to Presidio, so both share a registry of entities."""

    def __init__(self, recognizer: Recognizer) -> None:
        self.recognizer = recognizer
        super().__init__(supported_entities=[recognizer.entity], name=f"opendata-{registry_key(recognizer)}")

    def load(self) -> None:
        return None

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list[Any]:
        if self.recognizer not in recognizers():  # unregistered since the engine was built
            return []
        score = max(self.recognizer.score, 0.6)
        return [
            RecognizerResult(self.recognizer.entity, start, end, score)
            for start, end in self.recognizer.find(text)
        ]


class ProperNounNameRecognizer(EntityRecognizer):
    """Runs of capitalised words holding a proper noun: the names the small spaCy model misses.

    Low score: used for redaction (better ``<PERSON>`` too often than a name left in), never for detection.
    """

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="opendata-proper-noun-names")

    def load(self) -> None:
        return None

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list[Any]:
        if nlp_artifacts is None or nlp_artifacts.tokens is None:
            return []
        results: list[Any] = []
        run: list[Any] = []
        institutional = _institution_tokens(nlp_artifacts.tokens)

        def close() -> None:
            while run and run[-1].text.lower() in _NAME_PARTICLES:
                run.pop()
            # One capitalised word opening a sentence ("Badge", "Noise") is a name only if spaCy says so.
            opening = len(run) == 1 and (run[0].i == 0 or run[0].nbor(-1).text in (".", "!", "?", ";", ":"))
            if opening and not run[0].ent_type_:
                run.clear()
            if any(t.i in institutional for t in run):
                run.clear()
            if run and any(t.pos_ == "PROPN" for t in run):
                start, last = run[0].idx, run[-1]
                results.append(RecognizerResult("PERSON", start, last.idx + len(last.text), 0.4))
            run.clear()

        for token in nlp_artifacts.tokens:
            word = token.text
            titled = word[:1].isupper() and not (word.isupper() and len(word) > 3) and word[:1].isalpha()
            if token.ent_type_ in _NOT_NAMES:
                close()
            elif titled or (run and (word.lower() in _NAME_PARTICLES or word in ("-", "'", "."))):
                run.append(token)
            else:
                close()
        close()
        return results


class TextEngine:
    """Presidio with our recognizers, set up for redaction and for sampling free text."""

    def __init__(self, model: str) -> None:
        try:
            provider = NlpEngineProvider(nlp_configuration={
                "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}],
            })
            nlp_engine = provider.create_engine()
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"cannot load the spaCy model {model!r} for Presidio ({exc}); install it as a package "
                "or set OPENDATA_SPACY_MODEL to one that is installed"
            ) from exc
        if not isinstance(nlp_engine, SpacyNlpEngine) or nlp_engine.nlp is None:
            raise ConfigurationError(f"Presidio did not load a spaCy pipeline for {model!r}")
        nlp = nlp_engine.nlp["en"]
        for pipe in _SPACY_PIPES_UNUSED:
            if pipe in nlp.pipe_names:
                nlp.disable_pipe(pipe)
        self.analyzer: AnalyzerEngine = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])
        # Presidio's phone recognizer (libphonenumber over eight regions) costs a quarter of the time
        # and finds nothing ours does not: ours is generous in free text, where a miss is what matters.
        self.analyzer.registry.remove_recognizer("PhoneRecognizer")
        self.analyzer.registry.add_recognizer(ProperNounNameRecognizer())
        self._adapted: list[Recognizer] = []
        self._sync()
        self.batch: BatchAnalyzerEngine = BatchAnalyzerEngine(self.analyzer)

    def _sync(self, wanted: Sequence[str] | None = None) -> list[str]:
        """Adapt recognizers registered since the engine was built; the entities to ask for (``wanted``:
        these only; by default every personal entity but no places)."""
        current = recognizers()
        for recognizer in current:
            if recognizer not in self._adapted:
                self.analyzer.registry.add_recognizer(RecognizerAdapter(recognizer))
                self._adapted.append(recognizer)
        if wanted is not None:
            return list(dict.fromkeys(wanted))
        extra = [r.entity for r in current if r.entity in PERSONAL and r.entity not in DEFAULT_REDACT]
        return [*DEFAULT_REDACT, *extra]

    def analyze(
        self, texts: Sequence[str], min_score: float = REDACTION_SCORE, entities: Sequence[str] | None = None
    ) -> list[list[Span]]:
        """Entity spans of each text, overlapping spans merged (the highest-scoring entity names them).
        A PERSON span needs the evidence :func:`~anonymize.span_evidence.plausible_person` asks for, unless
        a label announced it."""
        entities = self._sync(entities)
        ours = [r for r in recognizers() if r.entity in entities]
        out: list[list[Span]] = [[] for _ in texts]
        has_letters = [any(ch.isalpha() for ch in t) for t in texts]
        wordy = [i for i, yes in enumerate(has_letters) if yes]
        bare = [i for i, yes in enumerate(has_letters) if not yes]
        if wordy:
            results = self.batch.analyze_iterator(
                [texts[i] for i in wordy], language="en", batch_size=256,
                entities=entities, score_threshold=min_score,
            )
            for i, found in zip(wordy, results, strict=True):
                text = texts[i]
                out[i] = _merge(span for span in (_evident(text, r) for r in found) if span is not None)
        for i in bare:
            found_bare = [
                Span(r.entity, start, end, r.score)
                for r in ours for start, end in r.find(texts[i]) if r.score >= min_score
            ]
            out[i] = _merge(found_bare)
        return out

    def redact(self, texts: Sequence[str], entities: Sequence[str] | None = None) -> list[str]:
        """Each finding replaced by its entity tag, such as ``<PERSON>`` or ``<EMAIL_ADDRESS>``."""
        redacted: list[str] = []
        for text, spans in zip(texts, self.analyze(texts, entities=entities), strict=True):
            for span in sorted(spans, key=lambda s: s.start, reverse=True):
                text = f"{text[:span.start]}<{span.entity}>{text[span.end:]}"
            redacted.append(text)
        return redacted


def _evident(text: str, result: Any) -> Span | None:
    """The finding as a span if it carries its evidence (:mod:`anonymize.span_evidence`), else None."""
    span = Span(result.entity_type, result.start, result.end, result.score)
    if result.entity_type == "PERSON" and not _labelled(result):
        bounds = person_span(text, result.start, result.end)
        return None if bounds is None else Span("PERSON", bounds[0], bounds[1], result.score)
    if result.entity_type in ("PHONE_NUMBER", "EMAIL_ADDRESS") and public_contact(text, result.start):
        return None
    return span


def _labelled(result: Any) -> bool:
    """Whether a finding came from the label recognizer (``VICTIM(S): ...``, ``my name is ...``): its own
    evidence."""
    metadata = getattr(result, "recognition_metadata", None) or {}
    return metadata.get("recognizer_name") == LABELLED_PERSON


def _merge(spans: Iterable[Span]) -> list[Span]:
    """Overlapping spans become one covering span, so no part of any finding survives."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            best = last if last.score >= span.score else span
            merged[-1] = Span(best.entity, last.start, max(last.end, span.end), best.score)
        else:
            merged.append(span)
    return merged


merge_spans = _merge


@lru_cache(maxsize=2)
def text_engine(model: str) -> TextEngine:
    """The process's engine for a spaCy model (loading takes about a second)."""
    return TextEngine(model)
