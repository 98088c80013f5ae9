"""Our recognizers of personal data, and the small Protocol any recognizer registers through.

A recognizer answers two questions:

* ``match(values)``: which cells of a column *are* this entity (vectorised with pyarrow.compute; a
  checksum such as Luhn or mod-97 runs in Python only on the few regex candidates);
* ``find(text)``: where the entity occurs inside free text, as ``(start, end)`` spans.

The built-ins below register with :func:`register_recognizer` exactly as an outside one would; the
column detector and the free-text engine (through a Presidio adapter) both read :func:`recognizers`.

Column *names* are recognised in :mod:`anonymize.name_rules`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import pyarrow as pa
import pyarrow.compute as pc

#: Entities that identify a person: an uncovered column holding one blocks the release.
#: (A set, not a frozenset: registering an outside recognizer may add to it.)
PERSONAL = {
    "EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS",
    "STREET_ADDRESS", "PERSON", "DATE_OF_BIRTH", "VEHICLE_PLATE", "USERNAME", "POSTCODE", "COORDINATE",
    "NATIONAL_ID",
}
#: Personal entities that single a person out in combination with others: a column holding one blocks
#: like any personal data (a postcode or a coordinate pair places a person unless the policy says the
#: place is public, with keep or generalize), and the report suggests listing it as a quasi-identifier.
QUASI = frozenset({"POSTCODE", "COORDINATE"})


@runtime_checkable
class Recognizer(Protocol):
    """What the detector and the text engine need from a recognizer."""

    @property
    def entity(self) -> str:
        """EMAIL_ADDRESS, PHONE_NUMBER, ..."""
        ...

    @property
    def min_share(self) -> float:
        """Share of non-empty sampled values that must match before a column counts as this entity."""
        ...

    @property
    def score(self) -> float:
        """Confidence of a column detection (and of a finding in free text)."""
        ...

    def match(self, values: pa.Array) -> pa.Array:
        """A boolean array: which (non-null, stripped) values are this entity."""
        ...

    def find(self, text: str) -> Iterable[tuple[int, int]]:
        """Spans of this entity inside a free text."""
        ...


@dataclass(frozen=True)
class PatternRecognizer:
    """A recognizer made of an anchored RE2 pattern for cells and a Python pattern for free text.

    ``exclude`` (RE2) removes look-alikes vectorised (dates, zip+4, ...); ``digits`` bounds the count of
    digits; ``validate`` is a checksum run in Python on regex candidates only, and at least
    ``min_valid_share`` of the candidates must pass it for the column to count.
    """

    entity: str
    cell: str
    text: str
    min_share: float = 0.3
    score: float = 0.7
    exclude: str | None = None
    digits: tuple[int, int] | None = None
    #: removed before digits are counted (a phone's extension, say)
    uncounted: str | None = None
    validate: Callable[[str], bool] | None = None
    min_valid_share: float = 0.8
    #: digit bounds inside free text, where a miss costs more than an over-redacted number (default: digits)
    text_digits: tuple[int, int] | None = None
    _text_re: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_text_re", re.compile(self.text))

    def match(self, values: pa.Array) -> pa.Array:
        hits = pc.fill_null(pc.match_substring_regex(values, self.cell), False)
        if self.exclude is not None:
            excluded = pc.fill_null(pc.match_substring_regex(values, self.exclude), False)
            hits = pc.and_(hits, pc.invert(excluded))
        if self.digits is not None:
            counted = values
            if self.uncounted is not None:
                counted = pc.replace_substring_regex(values, self.uncounted, "")
            count = pc.utf8_length(pc.replace_substring_regex(counted, r"\D", ""))
            lo, hi = self.digits
            in_range = pc.and_(pc.greater_equal(count, lo), pc.less_equal(count, hi))
            hits = pc.and_(hits, pc.fill_null(in_range, False))
        if self.validate is None:
            return hits
        candidates = pc.indices_nonzero(hits).to_pylist()
        if not candidates:
            return hits
        picked = values.take(pa.array(candidates)).to_pylist()
        valid = [self.validate(v) for v in picked]
        if sum(valid) < self.min_valid_share * len(valid):
            return pa.array([False] * len(values))
        mask = [False] * len(values)
        for index, ok in zip(candidates, valid, strict=True):
            mask[index] = ok
        return pa.array(mask)

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        for m in self._text_re.finditer(text):
            value = m.group(0)
            bounds = self.text_digits or self.digits
            if bounds is not None:
                counted = value if self.uncounted is None else re.sub(self.uncounted, "", value)
                n = sum(ch.isdigit() for ch in counted)
                if not bounds[0] <= n <= bounds[1]:
                    continue
            if self.exclude is not None and re.search(self.exclude, value.strip()):
                continue
            if self.validate is not None and not self.validate(value):
                continue
            yield m.start(), m.end()


# -- checksums (Python, candidates only) ---------------------------------------------------------

def luhn_valid(value: str) -> bool:
    digits = [int(ch) for ch in value if ch.isdigit()]
    if not 12 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(value: str) -> bool:
    compact = re.sub(r"[\s-]", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def ssn_valid(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    if len(digits) != 9:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


# -- built-ins -----------------------------------------------------------------------------------

_DATE_LIKE = r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2}$"
# USPS street suffixes (Publication 28), long and abbreviated, and a few in use in Europe.
_STREET_TYPES = (
    r"street|streets|st|avenue|ave|av|road|roads|rd|boulevard|blvd|lane|ln|drive|drives|dr|court|courts|ct"
    r"|place|pl|way|ways|terrace|ter|parkway|parkways|pkwy|highway|hwy|square|squares|sq|circle|circles|cir"
    r"|crescent|close|grove|groves|gardens?|mews|alley|plaza|broadway|branch|bridge|brooks?|burgs?|bypass"
    r"|camp|canyon|cape|causeway|centers?|cliffs?|club|common|corners?|course|cove|coves|creek|crest"
    r"|crossing|crossroad|curve|dale|dam|divide|estates?|expressway|extensions?|falls?|ferry|fields?|flats?"
    r"|fords?|forest|forges?|forks?|fort|freeway|gateway|glens?|greens?|harbors?|haven|heights|hills?"
    r"|hollow|inlet|islands?|isle|junctions?|keys?|knolls?|lakes?|landing|lights?|loaf|locks?|lodge|loop"
    r"|mall|manors?|meadows?|mills?|mission|motorway|mount|mountains?|neck|orchard|oval|overpass|parks?"
    r"|pass|passage|path|pike|pines?|plains?|points?|ports?|prairie|radial|ramp|ranch|rapids?|rest"
    r"|ridges?|river|route|row|rue|run|shoals?|shores?|skyway|springs?|spurs?|station|stravenue|stream"
    r"|summit|throughway|trace|track|trafficway|trail|tunnel|turnpike|underpass|unions?|valleys?|via"
    r"|viaduct|views?|villages?|ville|vista|walks?|wall|wells?"
)
_DIRECTION = r"(?:[NSEW]\.?\s+|(?i:north|south|east|west)\s+)?"
# In cells the whole pattern is case-insensitive; in free text the street's words must be capitalised.
_STREET_CELL = (
    r"\d{1,6}[a-z]?,?\s+" + _DIRECTION + r"(?:[\w.'-]+\s+){0,4}(?:" + _STREET_TYPES + r")\.?"
    r"(?:\s+(?:[NSEW]|north|south|east|west))?(?:\s*(?:,|#|apt|apartment|suite|ste|unit|fl|floor|flat)\b.*)?"
)
_STREET_TEXT = (
    r"\b\d{1,6}[A-Za-z]?,?\s+" + _DIRECTION + r"(?:[A-Z0-9][\w.'-]*\s+){0,3}(?i:" + _STREET_TYPES + r")\b\.?"
)
_UNIT_TAIL = r"(?:,?\s+(?i:apt|apartment|suite|ste|unit|flat|fl|floor|puerta|piso|appartamento|interno|scala|wohnung|" \
    r"lok|m|bus|étage|etage)\.?\s*\d{1,5}[A-Za-z]?)?"
# Text only (Python re): a street word and a house number in the forms of ten European locales.
_STREET_TEXT_EUROPEAN = (
    r"\b[\w'’-]*[\w](?i:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|straat|laan|gracht|plein|steeg|"
    r"singel|kade|pad|dreef|hof|gatan|vägen|gränd|stigen|backen|torget|gata|väg)\s+\d{1,5}[a-z]?(?:/\d{1,4})?"
    + _UNIT_TAIL +
    r"|\b(?i:ul\.|ulica|al\.|aleja|pl\.|plac|os\.|osiedle|via|viale|piazza|piazzale|corso|largo|borgo|vicolo|"
    r"contrada|strada|rotonda|rua|avenida|av\.|travessa|favela|distrito|parque|lagoa|praia|pátio|calle|camino|"
    r"paseo|pasaje|"
    r"pasadizo|acceso|ronda|plaza|carrer|cuesta|rambla|glorieta|urbanización|chemin|rue|avenue|boulevard|"
    r"impasse|allée|place|quai|cours|route|square)\s+(?:[\w'’.-]+\s+){0,4}?[\w'’.-]+,?\s+\d{1,5}[a-z]?"
    r"(?:/\d{1,4})?" + _UNIT_TAIL +
    r"|\b\d{1,5}(?:bis|ter)?,?\s+(?i:rue|avenue|boulevard|chemin|impasse|allée|place|quai|cours|route|square)"
    r"\s+(?:(?:de|du|des|la|le|l'|d')\s*)?[\w'’-]+(?:\s+[A-Z][\w'’-]+){0,3}"
)
_STREET_EUROPEAN = (
    r"(?:\d{1,5},?\s+(?i:rue|avenue|boulevard|chemin|impasse|all[ée]e|place|quai|cours)\s+[\w' -]{2,40})"
    r"|(?:(?i:calle|avenida|paseo|plaza|camino|ronda|v[ií]a|carrer|cuesta|rambla|callej[oó]n|urbanizaci[oó]n"
    r"|pasaje|alameda|acceso|glorieta|ca[nñ]ada)\s+[\w' -]{2,40}?,?\s+\d{1,5})"
    r"|(?:[\w-]{2,40}(?:stra(?:ss|ß)e|str\.|weg|gasse|platz|allee|ring|damm)\s+\d{1,5}[a-z]?)"
)


def _re2(pattern: str) -> str:
    """Python's ``\\w`` is Unicode-aware; RE2's is ASCII, so spell letters out for pyarrow."""
    return pattern.replace(r"\w", r"\p{L}\p{N}_")  # every \w of ours sits inside [...]


BUILT_INS: tuple[PatternRecognizer, ...] = (
    PatternRecognizer(
        "EMAIL_ADDRESS",
        cell=r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$",
        text=r"\b[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
        min_share=0.05, score=0.95,
    ),
    PatternRecognizer(
        "US_SSN",
        cell=r"^\d{3}-\d{2}-\d{4}$",
        text=r"\b\d{3}-\d{2}-\d{4}\b",
        min_share=0.05, score=0.9, validate=ssn_valid,
    ),
    PatternRecognizer(
        "CREDIT_CARD",
        cell=r"^\d{12,19}$|^\d{4}([ -]\d{4}){2}[ -]\d{1,7}$|^\d{4}[ -]\d{6}[ -]\d{4,5}$",
        text=r"\b(?:\d{12,19}|\d{4}(?:[ -]\d{4}){2}[ -]\d{1,7}|\d{4}[ -]\d{6}[ -]\d{4,5})\b",
        min_share=0.05, score=0.95, digits=(12, 19), validate=luhn_valid,
    ),
    PatternRecognizer(
        "IBAN_CODE",
        cell=r"^[A-Z]{2}\d{2} ?([A-Z0-9]{4} ?){2,7}[A-Z0-9]{1,4}$",
        text=r"\b[A-Z]{2}\d{2} ?(?:[A-Z0-9]{4} ?){2,7}[A-Z0-9]{1,4}\b",
        min_share=0.05, score=0.95, validate=iban_valid,
    ),
    PatternRecognizer(
        "IP_ADDRESS",
        cell=r"^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$"
        r"|^([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}$|^([0-9a-fA-F]{1,4}:){1,6}(:[0-9a-fA-F]{1,4}){1,6}$",
        text=r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b"
        r"|\b(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\b|\b(?:[0-9a-fA-F]{1,4}:){1,6}(?::[0-9a-fA-F]{1,4}){1,6}\b",
        min_share=0.05, score=0.9,
    ),
    PatternRecognizer(
        "PHONE_NUMBER",
        cell=r"^(\+\d{1,3}[\s.-]?)?(\(\d{1,5}\)[\s.-]?)?\d{1,5}([\s.-]\d{1,8}){1,5}(\s*(x|ext\.?)\s*\d{1,6})?$"
        r"|^\+\d{1,3}\s?(\(0\))?\s?\d[\d\s.-]{5,16}\d$|^\(\d{2,5}\)\s?\d[\d\s.-]{3,14}\d$",
        # In free text, being generous costs only an over-redacted long number.
        text=r"(?<![\w.+-])(?:\+\d{1,3}[ .-]?(?:\(0\))?[ ]?)?(?:\(\d{1,5}\)[ ]?)?\d[\d \t.-]{3,18}\d"
        r"(?:\s*(?i:x|ext\.?)\s*\d{1,6})?(?![\w:/])",
        min_share=0.3, score=0.7, digits=(9, 15), uncounted=r"\s*(x|ext\.?)\s*\d+$", text_digits=(7, 15),
        # dates, zip+4, SSNs, IPv4 addresses, decimals and 1.234.567-style amounts are not phones
        exclude=_DATE_LIKE + r"|^\d{5}-\d{4}$|^\d{3}-\d{2}-\d{4}$|^\d{1,3}(\.\d{1,3}){3}$"
        r"|^[+-]?\d+\.\d+$|^\d{1,3}(\.\d{3})+$",
    ),
    PatternRecognizer(
        "STREET_ADDRESS",
        cell=_re2(r"(?i)^(?:" + _STREET_CELL + r"|(?:" + _STREET_EUROPEAN + r")\b.*|(?:" + _STREET_TEXT_EUROPEAN
                  + r").*)$"),
        text=_STREET_TEXT_EUROPEAN + "|" + _STREET_TEXT + _UNIT_TAIL + "|" + _STREET_EUROPEAN,
        min_share=0.3, score=0.6,
    ),
    PatternRecognizer(
        "POSTCODE",
        cell=r"^\d{5}(-\d{4})?$|^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$|^[A-Z]\d[A-Z] ?\d[A-Z]\d$",
        text=r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b",
        min_share=0.3, score=0.5,
    ),
    PatternRecognizer(
        "COORDINATE",
        cell=r"^\(?\s*-?\d{1,3}\.\d{3,}\s*,\s*-?\d{1,3}\.\d{3,}\s*\)?$"
        r"|^POINT\s*\(\s*-?\d{1,3}\.\d+\s+-?\d{1,3}\.\d+\s*\)$",
        text=r"\(?-?\d{1,3}\.\d{4,},\s*-?\d{1,3}\.\d{4,}\)?",
        min_share=0.3, score=0.6,
    ),
)

@dataclass(frozen=True)
class LabelledValueRecognizer:
    """A value announced by its label in free text: ``VICTIM(S): KHAYRI DOE JR.``, ``DOB 06/24/01``.

    Only the value after the label becomes the span. Matches no cell: a column of such values is
    recognised by its name (:mod:`anonymize.name_rules`). Labels make all-caps names findable, which
    spaCy's small model reads as organisations or misses.
    """

    entity: str
    label: str
    value: str
    min_share: float = 1.0
    score: float = 0.85
    #: further (label, value) pairs: "my name is" takes a name in any case, "VEHICLE: ... (" a plate
    more: tuple[tuple[str, str], ...] = ()
    _re: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pairs = ((self.label, self.value), *self.more)
        pattern = "|".join(f"(?:{label})(?P<value{i}>{value})" for i, (label, value) in enumerate(pairs))
        object.__setattr__(self, "_re", re.compile(pattern))

    def match(self, values: pa.Array) -> pa.Array:
        return pa.array([False] * len(values))

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        for m in self._re.finditer(text):
            group = next(name for name, value in m.groupdict().items() if value is not None)
            start, _ = m.span(group)
            value = m.group(group).rstrip(" ,;")
            yield start, start + len(value)


_ROLE_LABELS = (
    r"victim|suspect|caller|complainant|contact|driver|owner|witness|resident|tenant|applicant|patient|"
    r"reported by|filed by|submitted by|requested by|name|missing person|child|abductor|parent"
)
_ROLE_LABELS_OTHER = (  # Spanish, French, Portuguese
    r"contacto|persona de contacto|nombre|v[ií]ctima|sospechoso|denunciante|solicitante|propietario|"
    r"inquilino|atenci[oó]n|responsable|representante legal|contact|nom|pr[ée]nom|demandeur|"
    r"contato|nome|respons[aá]vel|requerente"
)
_NAME_WORD = r"[A-ZÀ-Ý][A-Za-zÀ-ÿ'’-]*\.?"
_ANY_CASE_WORD = r"(?!(?:and|y|et|e|i|from|the|of|to|my|is|am|soy|je|suis|here|calling|not)\b)[A-Za-zÀ-ÿ][a-zà-ÿ'’-]+"
_INTRODUCTIONS = (
    r"my name is|call me|me llamo|mi nombre es|ll[aá]mame|je m'appelle|mon nom est|meu nome [ée]|me chamo"
)
_TITLE_WORDS = r"Mr|Mrs|Ms|Mx|Dr|Sr|Sra|Srta|Dra|Don|Doña|Mme|Mlle|Sig|Sig\.ra"
_DATE_VALUE = (
    r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}\s+de\s+\w+\s+de\s+\d{4}|\d{1,2}\s+\w+\s+\d{4}|\w+\s+\d{1,2},?\s+\d{4}"
)
_PLATE = r"(?=[A-Z0-9 -]*\d)(?=[A-Z0-9 -]*[A-Z])[A-Z0-9]{1,4}[- ]?[A-Z0-9]{2,5}\b"
LABELLED: tuple[LabelledValueRecognizer, ...] = (
    LabelledValueRecognizer(
        "PERSON", label=r"\b(?i:" + _ROLE_LABELS + "|" + _ROLE_LABELS_OTHER + r")(?:\((?i:s)\))?\s*[:\-]\s*",
        value=_NAME_WORD + r"(?:[ \t]+(?:" + _NAME_WORD + r"|(?i:de|van|von|der|da|di|del|la|le|y))){0,4}",
        more=(
            (r"\b(?i:" + _INTRODUCTIONS + r")\s+", _ANY_CASE_WORD + r"(?:[ \t]+" + _ANY_CASE_WORD + r"){0,2}"),
            (r"\b(?:" + _TITLE_WORDS + r")\.?\s+", _NAME_WORD + r"(?:[ \t]+" + _NAME_WORD + r"){0,3}"),
        ),
    ),
    LabelledValueRecognizer(
        "DATE_OF_BIRTH",
        label=r"\b(?:DOB|D\.O\.B\.|F\.?\s?N\.|(?i:date of birth|birth ?date|born(?: on)?|fecha de nacimiento|"
        r"nacid[oa] el|f(?:ec)?\. ?nac\.?|date de naissance|n[ée]e? le|data de nascimento|nascid[oa] (?:em|a)))"
        r"\s*[:\-]?\s*",
        value=_DATE_VALUE,
    ),
    LabelledValueRecognizer(
        "VEHICLE_PLATE",
        label=r"\b(?i:licen[cs]e plate|plate|tag|placas?|matr[ií]cula|plaque|kennzeichen|immatriculation)"
        r"(?:\s*(?i:#|no\.?|number|n[º°]))?\s*[:\-]?\s*",
        value=_PLATE,
        more=((r"\b(?i:vehicle|veh[ií]culo|v[ée]hicule)\s*:[^()\n]{0,80}\(", _PLATE),),
    ),
)

_REGISTRY: dict[str, Recognizer] = {}


def register_recognizer(recognizer: Recognizer, personal: bool = True) -> None:
    """Add (or replace, by entity) a recognizer used on cells and on free text.

    ``personal``: a column holding the entity blocks the release unless the policy names it. The text
    engine reads the registry when it is first built, so register before the first redaction.
    """
    if not isinstance(recognizer, Recognizer):
        raise TypeError(f"{recognizer!r} does not implement anonymize.recognizers.Recognizer")
    _REGISTRY[registry_key(recognizer)] = recognizer
    if personal:
        PERSONAL.add(recognizer.entity)


def registry_key(recognizer: Recognizer) -> str:
    """A recognizer's place in the registry: its ``name`` where it has one, else its entity."""
    return str(getattr(recognizer, "name", None) or recognizer.entity)


def unregister_recognizer(entity: str) -> None:
    _REGISTRY.pop(entity, None)


def recognizers() -> list[Recognizer]:
    return list(_REGISTRY.values())


def _register_built_ins() -> None:
    from anonymize.value_recognizers import NATIONAL_IDS, NameLexiconRecognizer, UsernameRecognizer

    built_ins: list[Recognizer] = [*BUILT_INS, *LABELLED, NameLexiconRecognizer(), UsernameRecognizer(), *NATIONAL_IDS]
    for built_in in built_ins:
        register_recognizer(built_in)


_register_built_ins()
