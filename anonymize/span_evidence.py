"""The evidence a finding in public text must carry: is this span a person's name, is this number theirs?

spaCy's small model and the proper-noun recognizer read any capitalised run as a possible name: in
weather alerts that made "Flood Warning", "Doppler", "Elko Nevada" and "Harris County" people. A PERSON span
(other than one announced by a label such as ``VICTIM(S):``) is kept only when

* no word of it belongs to the vocabulary of hazards, weather, institutions or roles ("Warning", "Radar",
  "Department", "Owner"), and it is not a known place nor next to a place word ("... County", "Lake ...");
* and at least one of its words is a given name or surname of the lexicons (:mod:`anonymize.lexicons`),
  or a title precedes it ("Mr.", "Sra.", "Dr."). ALL-CAPS runs, common in bulletins, also need two words
  one of which is a given name.

A phone number or e-mail address that a sentence gives as an institution's ("call the Office of
Environmental Investigations at 212-442-3372") is public contact data and is kept
(:func:`public_contact`): the institution's capitalised name stands right before it.
"""

from __future__ import annotations

import re

from anonymize.lexicons import common_words, fold, given_names, is_place, large_places, regions, surnames

#: Hazard and weather vocabulary of NWS, CAP and Meteoalarm texts, and common terms of public notices.
HAZARD_WORDS = frozenset("""
    warning warnings watch watches advisory advisories statement statements alert alerts emergency outlook
    flood floods flooding flash storm storms thunderstorm thunderstorms tornado tornadoes hurricane tropical
    typhoon cyclone surf rip current currents beach hazards hazard wind winds gale gust gusts blizzard snow
    winter ice freeze frost heat excessive extreme fire weather red flag smoke dense fog air quality ozone
    particulate dust haze radar doppler satellite gauge stage rainfall rain showers hail lightning marine
    small craft coastal lakeshore tsunami avalanche earthquake volcano ash wildfire drought hydrologic river
    stream streams creek urban arroyo debris flow burn scar low water crossing evacuation shelter
    service national severe moderate minor expected likely possible observed immediate future
    code orange purple level levels forecast forecasts issued effect update updated cancelled expired
    highway interstate route road roads bridge airport harbor port county counties parish zone zones area areas
    region metro valley mountains mountain cascades range plains coast island islands inland
    abduction amber missing endangered silver tribe tribes confederated nation nations reservation panhandle
    mesonet
""".split())
#: Institutions, places' kinds and roles: a run with one of these names a body or a role, not a person.
INSTITUTION_WORDS = frozenset("""
    department agency office bureau police division unit board authority commission council committee services
    administration corporation company inc llc ltd university college school hospital center centre court
    library museum transit transportation sanitation housing preservation development environmental
    protection buildings finance health parks recreation education state city federal ministry government
    management agriculture markets consumer affairs taxi limousine commissioner mayor
    owner owners landlord tenant tenants resident residents caller complainant customer inspector inspectors
    officer officers violation violations notice summons inspection consultation sidewalk complaint request
    street avenue boulevard road place plaza square
""".split())
PLACE_BEFORE = frozenset("lake mount mt fort ft port saint st san santa los las el new upper lower".split())
PLACE_AFTER = frozenset("""
    county counties parish borough city town township townships village river rivers creek creeks lake lakes
    bay valley mountain mountains island islands park forest coast beach sound canyon peak basin reservoir dam
    spring springs falls heights metro area areas region zone district airport state states national world
    pueblo fires complex
""".split())
DIRECTIONS = frozenset("""
    north south east west northern southern eastern western northeast northwest southeast southwest
    northeastern northwestern southeastern southwestern central upper lower greater
""".split())
#: "... 7 miles west of Kenna", "over Palomar", "across Western Washington": what comes next is a place.
_PLACE_CONTEXT = re.compile(
    r"(?i:\b(?:miles?|mi|km|kilomet(?:er|re)s?)\s+(?:(?:north|south|east|west)\w*\s+)?of|"
    r"\b(?:over|near|across|toward|towards|around|outside|in)(?:\s+the)?)\s*$"
)
TITLES = frozenset("""
    mr mrs ms miss mx dr sr sra srta don dona dra mme mlle m herr frau sig sr. sra. prof
""".split())
_LEADING = frozenset("""
    the a an caller callers resident complainant tenant owner landlord customer client patient victim suspect
    witness driver applicant reporter requester inspector officer contact
""".split())
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_SENTENCE_BREAK = re.compile(r"[a-z]{2}[.!?]\s+[A-Z]|\.\.\.")
_ABBREVIATIONS = frozenset("prof univ dipl ing mag phd eng jr sr mrs".split())
#: Titles just before a name are redacted with it ("Univ.Prof. Dr. <PERSON>" would still point at one).
_TITLE_BEFORE = re.compile(
    r"(?:(?:Univ\.\s?)?Prof\.|Dr\.|Dipl\.-Ing\.|Ing\.|Mag\.|Mr\.?|Mrs\.?|Ms\.?|Frau|Herr|Sr\.?|Sra\.?|Srta\.?"
    r"|Mme\.?|Mlle\.?|Dra\.?|Don|Doña)\s+$"
)


def person_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The part of ``text[start:end]`` (found as PERSON by a statistical or shape-based recognizer) that is
    a person's name, leading roles and titles left out ("Resident Frau Ehrentraud Conradi" -> "Ehrentraud
    Conradi"); None when it is not a name."""
    matches = list(_WORD.finditer(text, start, end))
    lead = 0
    while lead < len(matches) - 1 and fold(matches[lead].group(0)) in _LEADING:
        lead += 1
    if lead:
        start = matches[lead].start()
    if not plausible_person(text, start, end):
        return None
    while (title := _TITLE_BEFORE.search(text, max(0, start - 20), start)) is not None:
        start = title.start()
    return start, end


def plausible_person(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]``, found as PERSON by a statistical or shape-based recognizer, is a name."""
    words = [m.group(0) for m in _WORD.finditer(text, start, end)]
    titled = False
    while len(words) > 1 and fold(words[0]) in TITLES:
        words.pop(0)  # "Frau Ehrentraud Conradi": the title is evidence, not a word of the name
        titled = True
    while words and fold(words[0]) in ("the", "a", "an"):
        words.pop(0)
    if not words:
        return False
    folded = [fold(w) for w in words]
    before = "mr" if titled else _neighbour(text[:start], last=True)
    after = _neighbour(text[end:], last=False)
    if before in PLACE_BEFORE or after in PLACE_AFTER or _PLACE_CONTEXT.search(text[max(0, start - 40):start]):
        return False
    if _ROUTE_BEFORE.search(text[max(0, start - 60):start]) and (
            _ROUTE_AFTER.match(text, end) or "between" in text[max(0, start - 60):start].lower()):
        return False  # "from Vinton to Dubuque", "between Willard and Corona"
    if _BULLETIN_LIST.search(text[max(0, start - 60):start]):
        return False  # "...Crawford...Franklin and Sebastian": a bulletin's list of counties
    if _list_of_places(text[end:end + 120]):
        return False  # "Madera, Fresno and Tulare counties", "the Ferguson, Donnell and Lions Fires"
    if len(words) >= 2 and is_place(" ".join(words)) or _two_sentences(text, start, end):
        return False  # "Livermore. Movement was ...": two sentences, not one name
    if folded[0] in DIRECTIONS or folded[0] in PLACE_BEFORE:
        return False  # "Western Kane", "San Felipe"
    given, family = given_names(), surnames()
    common = common_words()
    if before in TITLES and not any(w in HAZARD_WORDS | INSTITUTION_WORDS for w in folded):
        return True  # "Dr. Carol Snow"
    if len(words) >= 2 and _known(folded[0], given) and _known(folded[-1], family) \
            and not all(w in common for w in folded):
        return True  # "Carol Snow", "Amber Wilkinson", "Theresa Jordan": a given name, then a surname
    if len(words) >= 2 and folded[-1] in regions():
        return False  # "Caribou Maine", "Elko Nevada": a place and its state
    vetoes = HAZARD_WORDS | INSTITUTION_WORDS | PLACE_AFTER
    if any(w in vetoes for w in folded):
        return False
    if len(words) >= 2 and all(is_place(w) and w not in given for w in folded):
        return False
    if before in TITLES:
        return True
    if all(w.isupper() and len(w) > 1 for w in words) or all(w.islower() for w in words):
        return False  # bulletins in capitals and lower-case text need a given name and a surname (above)
    if len(words) >= 2:
        # "Alice Green" (a given name); "Ehrentraud Conradi" (names the lexicons lack, but not a place's as in
        # "Idaho Panhandle", nor holding a common word as "Sensitive Groups" and "Vendor License")
        if any(_known(w, given) or _known(w, family) for w in folded):
            return True
        return not any(w in common or is_place(w) for w in folded if len(w) > 1)
    # One word: a given name or surname, unless it names a country, a US state or a large city, or stands
    # where places stand; a town that is also a surname ("Becker", "Clark") is a name.
    if folded[0] in large_places() or before in DIRECTIONS:
        return False  # "in Albuquerque", "northern Carroll"
    if (text[:start].rstrip().endswith("...") or text[end:].lstrip().startswith("...")) and is_place(folded[0]):
        return False  # "...Carroll...Stephenson...": a bulletin's list of counties
    return _known(folded[0], given) or _known(folded[0], family)


_ROUTE_BEFORE = re.compile(r"(?:\bfrom|\bbetween(?:\s+[A-Z][\w'’-]*){1,3}\s+and)\s+$")
_BULLETIN_LIST = re.compile(r"\.\.\.[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*\s+and\s+$")
_ROUTE_AFTER = re.compile(r"\s+to\s+[A-Z]")
_LIST_TAIL = re.compile(r"(?:\s*(?:,|and|&)\s*|\s+)([^\W\d_][\w'’-]*)")


def _list_of_places(after: str) -> bool:
    """Whether the span heads a list of names that ends in a place word ("... and Tulare counties")."""
    position = 0
    for _ in range(8):
        m = _LIST_TAIL.match(after, position)
        if m is None:
            return False
        word = fold(m.group(1))
        if word in PLACE_AFTER:
            return True
        if not m.group(1)[0].isupper() and word != "and":
            return False
        position = m.end()
    return False


def _two_sentences(text: str, start: int, end: int) -> bool:
    """A full stop inside the span that ends a sentence, not a title's ("Prof. Wladimir") or an initial's."""
    for m in _SENTENCE_BREAK.finditer(text, start, end):
        if m.group(0) == "...":
            return True
        word = _WORD.findall(text[start:m.start() + 2])
        if word and len(word[-1]) >= 3 and fold(word[-1]) not in TITLES and fold(word[-1]) not in _ABBREVIATIONS:
            return True
    return False


def _known(word: str, lexicon: frozenset[str]) -> bool:
    """A word, or a part of a hyphenated one ("klaus-werner", "biggen-briemer"), in the lexicon."""
    return word in lexicon or any(part in lexicon for part in word.split("-") if len(part) > 1)


def _neighbour(side: str, last: bool) -> str:
    found = _WORD.findall(side[-40:] if last else side[:40])
    if not found:
        return ""
    return fold(found[-1] if last else found[0])


_INSTITUTION_NAME = (
    r"Office|Department|Dept\.?|Agency|Bureau|Commission|Division|Unit|Hotline|Helpline|Center|Centre|Council"
    r"|Services?|Ministry|Authority|Board|Court|Clinic|Hospital|Police|Precinct|Administration|Line"
)
_PHRASE_WORD = r"(?:[A-Z0-9][\w&'’.-]*|of|for|and|the|&)"
#: "... call the Office of Environmental Investigations at", "contact 311 at", "NYC Housing Authority:"
_INSTITUTION_BEFORE = re.compile(
    r"(?:\b(?:" + _INSTITUTION_NAME + r")(?:\s+" + _PHRASE_WORD + r"){0,6}|\b311)\s*(?:at|on|:|,|-)?\s*$"
)


def public_contact(text: str, start: int) -> bool:
    """Whether the phone or e-mail starting at ``start`` is given as an institution's: the institution's
    capitalised name stands right before it ("call the Office of Environmental Investigations at ...")."""
    before = re.split(r"[.!?;]\s", text[max(0, start - 160):start])[-1]
    return _INSTITUTION_BEFORE.search(before) is not None
