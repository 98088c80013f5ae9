"""Recognizers that need more than a regular expression: people's names from lexicons, usernames, and
national identity numbers checked by ``python-stdnum``.

They register through :func:`anonymize.recognizers.register_recognizer` like any outside recognizer.
Their ``match`` runs in Python over the detection sample (5,000 values at most), after a vectorised
pre-filter where one helps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import import_module
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from anonymize.lexicons import common_words, dictionary_words, fold, given_names, is_place, surnames

_PARTICLES = frozenset("de del della des du la le van von der den da di dos das y e zu al bin ibn".split())
_SUFFIXES = frozenset("jr sr ii iii iv".split())
_TITLES = frozenset("mr mrs ms miss dr prof sr sra srta don dona dra mme mlle m herr frau".split())
_LETTERS = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def name_words(value: str) -> list[str]:
    """The folded words of a value that could be a person's name, titles, particles and suffixes left out."""
    words = [fold(w) for w in _LETTERS.findall(value)]
    return [w for w in words if w not in _PARTICLES and w not in _SUFFIXES and w not in _TITLES]


def looks_like_name(value: str) -> bool:
    """A cell holding a person's name: "Maria Gonzalez", "GONZALEZ, MARIA", "josé", "Smith" (any case).

    One word: a given name or surname that is not also a place's name ("Houston", "Charlotte"). Two to
    five words: a given name and a surname among them, nothing but letters, and not a place.
    """
    if any(ch.isdigit() for ch in value) or "@" in value or len(value) > 60:
        return False
    words = name_words(value)
    if not words or len(words) > 5:
        return False
    given, family = given_names(), surnames()
    if len(words) == 1:
        word = words[0]
        return len(word) > 1 and (word in given or word in family) and not is_place(word, counties=False)
    if is_place(" ".join(words), counties=False):
        return False
    known = sum(1 for w in words if w in given or w in family)
    return known >= len(words) - 1 and any(w in given for w in words) and any(w in family for w in words)


@dataclass(frozen=True)
class NameLexiconRecognizer:
    """People's names as cells (a column of given names, of surnames, of full names in any case) and as
    given-name + surname pairs in free text ("maria gonzalez", "MARIA GONZALEZ"), which spaCy misses
    when they are not capitalised as English names are."""

    entity: str = "PERSON"
    name: str = "PERSON-lexicon"
    min_share: float = 0.5
    score: float = 0.7

    def match(self, values: pa.Array) -> pa.Array:
        texts = [str(v) for v in values.to_pylist()]
        if _categorical(texts):
            return pa.array([False] * len(texts), pa.bool_())
        return pa.array([looks_like_name(t) for t in texts], pa.bool_())

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        given, family, common = given_names(), surnames(), common_words()
        words = list(_LETTERS.finditer(text))
        i = 0
        while i < len(words) - 1:
            first, second = words[i], words[i + 1]
            a, b = fold(first.group(0)), fold(second.group(0))
            if (text[first.end():second.start()] == " " and _case(first) == _case(second) != "mixed"
                    and len(a) > 2 and len(b) > 2 and a in given and b in family and not is_place(f"{a} {b}")
                    and not (a in common and b in common)):
                end = second.end()
                if i + 2 < len(words) and text[end:words[i + 2].start()] == " " \
                        and _case(words[i + 2]) == _case(first) and fold(words[i + 2].group(0)) in family:
                    end = words[i + 2].end()
                    i += 1
                yield first.start(), end
                i += 2
                continue
            i += 1


def _categorical(texts: list[str]) -> bool:
    """A few values repeated over many rows ("PHONE", "ONLINE"; "Severe", "Moderate") are categories, not
    people: names vary from row to row."""
    return len(texts) >= 20 and len(set(texts)) < 0.2 * len(texts)


def _case(word: re.Match[str]) -> str:
    text = word.group(0)
    if text.isupper():
        return "upper"
    if text.islower():
        return "lower"
    return "title" if text[0].isupper() and text[1:].islower() else "mixed"


_HANDLE = re.compile(r"^@[A-Za-z0-9_.]{2,30}$")
_USERNAME_SHAPE = re.compile(r"^[a-z][a-z0-9._-]{2,30}$")


def looks_like_username(value: str) -> bool:
    """``@maria_g``, ``jsmith``, ``michaelwilliams``, ``brianna12``, ``maria.gonzalez`` (lower case)."""
    if _HANDLE.match(value):
        return True
    if not _USERNAME_SHAPE.match(value):
        return False
    parts = [p for p in re.split(r"[._-]|\d+", value) if p]
    if not parts or value in dictionary_words():
        return False  # "tender", "closed": words, not logins
    given, family = given_names(), surnames()
    letters = "".join(parts)
    if len(parts) >= 2:
        return (parts[0] in given or len(parts[0]) == 1) and (parts[-1] in family or parts[-1] in given)
    if letters != value and (letters in given or letters in family):
        return True  # a name and digits: "brianna12"
    if len(letters) >= 5 and letters[1:] in family and len(letters) - 1 >= 4:
        return True  # initial and surname: "jsmith"
    return any(letters[:cut] in given and letters[cut:] in family for cut in range(3, len(letters) - 2))


@dataclass(frozen=True)
class UsernameRecognizer:
    """Usernames and handles: a column of them identifies people. Only distinct, varied columns count
    (a few repeated lower-case words are categories)."""

    entity: str = "USERNAME"
    min_share: float = 0.5
    score: float = 0.75

    def match(self, values: pa.Array) -> pa.Array:
        texts = [str(v) for v in values.to_pylist()]
        if not texts or _categorical(texts) or len(set(texts)) < 0.5 * len(texts):
            return pa.array([False] * len(texts), pa.bool_())
        return pa.array([looks_like_username(t) for t in texts], pa.bool_())

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        for m in re.finditer(r"(?<![\w@.])@[A-Za-z0-9_]{2,30}\b", text):
            yield m.start(), m.end()


@cache
def _stdnum(module: str) -> Any:
    return import_module(f"stdnum.{module}")


@dataclass(frozen=True)
class NationalIdRecognizer:
    """A national identity number: a shape (RE2, vectorised) and its check digits (python-stdnum)."""

    entity: str
    cell: str
    text: str
    module: str
    min_share: float = 0.3
    score: float = 0.9
    min_valid_share: float = 0.8
    _text_re: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_text_re", re.compile(self.text))

    def _valid(self, value: str) -> bool:
        return bool(_stdnum(self.module).is_valid(value))

    def match(self, values: pa.Array) -> pa.Array:
        hits = pc.fill_null(pc.match_substring_regex(values, self.cell), False)
        candidates = pc.indices_nonzero(hits).to_pylist()
        if not candidates:
            return hits
        picked = values.take(pa.array(candidates)).to_pylist()
        valid = [self._valid(str(v)) for v in picked]
        if sum(valid) < self.min_valid_share * len(valid):
            return pa.array([False] * len(values), pa.bool_())
        mask = [False] * len(values)
        for index, ok in zip(candidates, valid, strict=True):
            mask[index] = ok
        return pa.array(mask, pa.bool_())

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        for m in self._text_re.finditer(text):
            if self._valid(m.group(0)):
                yield m.start(), m.end()


#: National ids with check digits, named as Presidio names those it knows (ES_NIF, IT_FISCAL_CODE, ...).
NATIONAL_IDS: tuple[NationalIdRecognizer, ...] = (
    NationalIdRecognizer("ES_NIF", r"^\d{8}-?[A-Za-z]$", r"\b\d{8}-?[A-Z]\b", "es.dni"),
    NationalIdRecognizer("ES_NIE", r"^[XYZxyz]-?\d{7}-?[A-Za-z]$", r"\b[XYZ]-?\d{7}-?[A-Z]\b", "es.nie"),
    NationalIdRecognizer("MX_CURP", r"^[A-Z]{4}\d{6}[HM][A-Z]{5}[0-9A-Z]\d$",
                         r"\b[A-Z]{4}\d{6}[HM][A-Z]{5}[0-9A-Z]\d\b", "mx.curp"),
    # 13 characters: a person's RFC (an organisation's has 12, and stays public)
    NationalIdRecognizer("MX_RFC", r"^[A-Z&Ñ]{4}\d{6}[A-Z0-9]{3}$", r"\b[A-Z&Ñ]{4}\d{6}[A-Z0-9]{3}\b", "mx.rfc"),
    NationalIdRecognizer("BR_CPF", r"^\d{3}\.?\d{3}\.?\d{3}-?\d{2}$", r"\b\d{3}\.\d{3}\.\d{3}-\d{2}\b", "br.cpf"),
    NationalIdRecognizer("FR_NIR", r"^[12]\s?\d{2}\s?\d{2}\s?(\d{2}|2[AB])\s?\d{3}\s?\d{3}\s?\d{2}$",
                         r"\b[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}\b", "fr.nir"),
    NationalIdRecognizer("IT_FISCAL_CODE", r"^[A-Za-z]{6}\d{2}[A-Za-z]\d{2}[A-Za-z]\d{3}[A-Za-z]$",
                         r"\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b", "it.codicefiscale"),
    NationalIdRecognizer("PL_PESEL", r"^\d{11}$", r"\b\d{11}\b", "pl.pesel", min_valid_share=0.95),
    NationalIdRecognizer("PT_CC", r"^\d{8}\s?\d\s?[A-Za-z]{2}\d$", r"\b\d{8} ?\d ?[A-Z]{2}\d\b", "pt.cc"),
    NationalIdRecognizer("CA_SIN", r"^\d{3}[- ]\d{3}[- ]\d{3}$", r"\b\d{3}[- ]\d{3}[- ]\d{3}\b", "ca.sin"),
)
