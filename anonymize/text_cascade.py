"""Redacting large free-text columns fast: a name lexicon learned from spaCy, and spaCy on both cores.

Running Presidio with spaCy on every distinct text costs about 2 ms a text here. Most texts of a large
column reuse words spaCy has already judged, so the cascade learns as it goes:

1. Texts go in rounds. In each text the capitalised words are the only ones that can start a name or
   a place. A text whose capitalised words all have a settled label is redacted on the *fast path*:
   our own recognizers (e-mail, phone, card, IBAN, SSN, IP, street address, ...) plus the lexicon's
   PERSON and LOCATION words, merged into runs.
2. Any other text takes the *slow path*: the full :class:`~anonymize.text_engine.TextEngine`
   (Presidio, spaCy, our recognizers). Its results teach the lexicon: each capitalised word is seen
   inside a PERSON or LOCATION span, or outside any span. A word seen both ways (less than 90 % one way)
   stays unsettled and keeps its texts on the slow path, so "Grant" the name and "Grant" the verb are
   still told apart by spaCy; a word is kept by the fast path only after two sightings outside names.
3. Rounds are shared by ``text_workers`` processes started with the *spawn* method (never fork: the
   parent may hold DuckDB or uvicorn threads, and a forked copy of a held lock deadlocks). Each worker
   loads its own spaCy once; the lexicon learned by all is merged after every round.

A word spaCy labelled PERSON once is redacted everywhere after: the cascade errs towards redacting.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

import pyarrow as pa

from anonymize.recognizers import PERSONAL, Recognizer, recognizers, register_recognizer
from anonymize.span_evidence import public_contact
from anonymize.text_engine import DEFAULT_REDACT, Span, merge_spans, text_engine

#: Distinct texts from which ``redact`` takes the cascade rather than the engine on every text.
CASCADE_MIN_TEXTS = 2000
#: Distinct texts from which the cascade starts worker processes (each takes seconds to load spaCy).
POOL_MIN_TEXTS = 20000
#: Texts per task in the first round; rounds double up to ``LAST_ROUND``.
FIRST_ROUND, LAST_ROUND = 1000, 40000
LEARNED = ("PERSON", "LOCATION")
#: Share of a word's sightings that must agree (redacted or kept) before the fast path judges it alone.
AGREEMENT = 0.9
KEEP_EVIDENCE = 2
OUTSIDE = "O"
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_JOINERS = re.compile(r"^(\s+|\s*[-'.]\s*|\s+(?:de|du|del|della|des|la|le|van|von|der|den|da|di|dos|y|bin)\s+)$")


@dataclass
class Lexicon:
    """Capitalised word -> the labels spaCy gave it in context (PERSON, LOCATION or O)."""

    seen: dict[str, Counter[str]] = field(default_factory=dict)

    def settled(self) -> dict[str, str]:
        """Words the fast path may judge alone: redacted (tag: the commoner of PERSON and LOCATION) when at
        least ``AGREEMENT`` of their sightings were inside a span, kept when at least that share were outside
        and they were seen ``KEEP_EVIDENCE`` times (a name spaCy missed once must not be kept for good)."""
        out: dict[str, str] = {}
        for word, labels in self.seen.items():
            total = sum(labels.values())
            outside = labels.get(OUTSIDE, 0)
            if total - outside >= AGREEMENT * total:
                out[word] = max(LEARNED, key=lambda e: labels.get(e, 0))
            elif outside >= AGREEMENT * total and outside >= KEEP_EVIDENCE:
                out[word] = OUTSIDE
        return out

    def learn(self, observed: dict[str, Counter[str]]) -> None:
        for word, labels in observed.items():
            self.seen.setdefault(word, Counter()).update(labels)


def capitalised(text: str) -> list[re.Match[str]]:
    return [m for m in _WORD.finditer(text) if m.group(0)[0].isupper()]


def fast_spans(text: str, words: list[re.Match[str]], settled: dict[str, str],
               ours: Sequence[Recognizer]) -> list[Span]:
    spans = [
        Span(r.entity, start, end, r.score) for r in ours for start, end in r.find(text)
        if r.entity not in ("PHONE_NUMBER", "EMAIL_ADDRESS") or not public_contact(text, start)
    ]
    named = [Span(settled[m.group(0)], m.start(), m.end(), 0.5) for m in words if settled[m.group(0)] != OUTSIDE]
    runs: list[Span] = []
    for span in named:
        if runs and runs[-1].entity == span.entity and _JOINERS.match(text[runs[-1].end:span.start]):
            runs[-1] = Span(span.entity, runs[-1].start, span.end, 0.5)
        else:
            runs.append(span)
    return merge_spans([*spans, *runs])


def observe(text: str, words: list[re.Match[str]], spans: list[Span]) -> dict[str, Counter[str]]:
    """What a slow-path result teaches about each capitalised word of the text."""
    observed: dict[str, Counter[str]] = {}
    for m in words:
        inside = [s for s in spans if s.start <= m.start() and m.end() <= s.end]
        if not inside:
            label = OUTSIDE
        elif inside[0].entity in LEARNED:
            label = inside[0].entity
        else:
            continue  # part of an e-mail or an address: says nothing about the word alone
        observed.setdefault(m.group(0), Counter())[label] += 1
    return observed


def apply_spans(text: str, spans: list[Span]) -> str:
    for span in sorted(spans, key=lambda s: s.start, reverse=True):
        text = f"{text[:span.start]}<{span.entity}>{text[span.end:]}"
    return text


@dataclass(frozen=True)
class RoundResult:
    spans: list[list[Span]]
    observed: dict[str, Counter[str]]
    slow: int


def redact_round(
    model: str, texts: Sequence[str], settled: dict[str, str], entities: tuple[str, ...] | None = None
) -> RoundResult:
    """One task: the fast path where the lexicon settles every capitalised word, the engine elsewhere."""
    engine = text_engine(model)
    wanted = set(entities) if entities is not None else (set(DEFAULT_REDACT) | PERSONAL)
    ours = [r for r in recognizers() if r.entity in wanted]
    settled = {w: label for w, label in settled.items() if label == OUTSIDE or label in wanted}
    out: list[list[Span]] = [[] for _ in texts]
    slow: list[int] = []
    words_of: list[list[re.Match[str]]] = []
    for i, text in enumerate(texts):
        words = capitalised(text)
        words_of.append(words)
        if all(m.group(0) in settled for m in words):
            out[i] = fast_spans(text, words, settled, ours)
        else:
            slow.append(i)
    observed: dict[str, Counter[str]] = {}
    if slow:
        results = engine.analyze([texts[i] for i in slow], entities=entities)
        for i, spans in zip(slow, results, strict=True):
            out[i] = spans
            for word, labels in observe(texts[i], words_of[i], spans).items():
                observed.setdefault(word, Counter()).update(labels)
    return RoundResult(out, observed, len(slow))


def _worker_start(model: str, extra: list[Recognizer]) -> None:
    for recognizer in extra:  # recognizers registered by the parent at run time
        register_recognizer(recognizer, personal=recognizer.entity in PERSONAL)
    text_engine(model)


RoundRunner = Callable[[list[list[str]], dict[str, str]], list[RoundResult]]


@dataclass
class Redactor:
    """Redacts a column of distinct texts with the cascade; ``stats`` tells how much spaCy was spared."""

    model: str
    workers: int = 2
    min_pool_texts: int = POOL_MIN_TEXTS
    entities: tuple[str, ...] | None = None  # what to remove; None: every personal entity
    lexicon: Lexicon = field(default_factory=Lexicon)
    stats: dict[str, int] = field(default_factory=dict)

    def redact(self, texts: pa.Array) -> pa.Array:
        values = [str(v) for v in texts.to_pylist()]
        found = self.spans(values)
        return pa.array([apply_spans(t, s) for t, s in zip(values, found, strict=True)], pa.string())

    def spans(self, values: list[str]) -> list[list[Span]]:
        """Entity spans of each text (the evaluation scores these)."""
        self.stats = {"texts": len(values), "slow": 0, "rounds": 0, "workers": 1}
        if self.workers > 1 and len(values) >= self.min_pool_texts:
            self.stats["workers"] = self.workers
            context = get_context("spawn")
            with ProcessPoolExecutor(self.workers, mp_context=context, initializer=_worker_start,
                                     initargs=(self.model, recognizers())) as pool:
                return self._rounds(values, lambda chunks, settled: list(pool.map(
                    redact_round, [self.model] * len(chunks), chunks, [settled] * len(chunks),
                    [self.entities] * len(chunks))))
        return self._rounds(values, lambda chunks, settled: [
            redact_round(self.model, chunk, settled, self.entities) for chunk in chunks])

    def _rounds(self, values: list[str], run: RoundRunner) -> list[list[Span]]:
        out: list[list[Span]] = []
        size, start = FIRST_ROUND, 0
        parallel = max(1, self.workers if self.stats["workers"] > 1 else 1)
        while start < len(values):
            chunks = [values[start + i * size:start + (i + 1) * size] for i in range(parallel)]
            chunks = [c for c in chunks if c]
            results = run(chunks, self.lexicon.settled())
            for result in results:
                out += result.spans
                self.lexicon.learn(result.observed)
                self.stats["slow"] += result.slow
            self.stats["rounds"] += 1
            start += sum(len(c) for c in chunks)
            size = min(LAST_ROUND, size * 2)
        return out
