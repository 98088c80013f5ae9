"""People among an OCDS release's parties: sole traders, self-employed suppliers, beneficial owners.

OCDS names organisations, but a supplier may be one person trading in their own name, whose party id is
often a personal tax number. A party (or, in OCDS 1.0 data without ``parties``, an organisation reference)
is a person when one of these signals says so:

* ``details.scale`` is ``selfEmployed`` (the partyScale codelist) or reads "sole trader";
* its ``identifier.scheme`` numbers people (:data:`PERSON_SCHEMES`, plus the job's ``person_schemes``),
  or it is a Mexican RFC of 13 characters (a *persona física*; an organisation's RFC has 12);
* its name reads as a person's name: two to four words, each a given name or surname of the names
  lexicon (``anonymize/lexicons``), the first a given name, with no organisation word ("S.A.", "Ltd").

Beneficial owners (the beneficialOwners extension, ``parties[].beneficialOwners[]``) are people always.

What the family does with them (``procurement.tables``): a person's id is replaced everywhere (every
table's id columns, the red flags) by a keyed pseudonym, ``person-`` and 16 hex digits, the same in every
release; the name goes to ``parties.person_name`` only (never to ``name`` or the ``*_names`` columns),
and beneficial owners' names to ``parties.beneficial_owners``, columns the job's privacy policy decides on
like any other (an uncovered one holding names blocks the release).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from typing import Any

from procurement import compiled as c

PERSON_SCALES = frozenset({"selfemployed", "self-employed", "self employed", "sole trader", "soletrader",
                           "sole_trader", "sole proprietor", "persona fisica", "persona física"})
#: Identifier schemes whose numbers are people's (national identity and personal population registries).
PERSON_SCHEMES = frozenset({"MX-CURP", "CURP", "PY-CI", "CO-CC", "EC-CI", "PE-DNI", "AR-DNI", "UY-CI",
                            "BR-CPF", "CL-RUN", "ES-DNI", "IT-CF", "GB-NINO", "US-SSN"})
_RFC_SCHEMES = frozenset({"MX-RFC", "RFC", "Registro Federal de Contribuyentes de México",
                          "Registro Federal de Contribuyentes"})
_PERSON_RFC = re.compile(r"^[A-ZÑ&]{4}\d{6}[A-Z0-9]{3}$")
_ORGANISATION_WORDS = frozenset({
    "sa", "sas", "srl", "sl", "sc", "cv", "de", "del", "la", "las", "los", "el", "y", "e", "and", "of", "the",
    "ltd", "limited", "inc", "llc", "llp", "plc", "corp", "co", "company", "gmbh", "ag", "bv", "nv", "spa",
    "group", "grupo", "services", "servicios", "consulting", "construction", "constructora", "ministry",
})
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

Pseudonym = Callable[[str], str]


def person_pseudonym(key: Callable[[], bytes]) -> Pseudonym:
    """``person-`` and 16 hex digits of a keyed hash of the id (the job's pseudonym key, read when first
    needed, so a family without people needs no key)."""
    cache: dict[str, str] = {}

    def pseudonym(identifier: str) -> str:
        found = cache.get(identifier)
        if found is None:
            digest = hmac.new(key(), b"ocds person:" + identifier.encode("utf-8"), hashlib.sha256).hexdigest()
            found = cache[identifier] = f"person-{digest[:16]}"
            if len(cache) > 100_000:
                cache.clear()
        return found

    return pseudonym


def reads_as_person_name(name: str) -> bool:
    from anonymize.lexicons import fold, given_names, surnames

    if any(ch.isdigit() for ch in name):
        return False
    words = _WORD.findall(name)
    if not 2 <= len(words) <= 4 or len(words) != len(name.replace(",", " ").replace(".", " ").split()):
        return False
    folded = [fold(w) for w in words]
    if any(w in _ORGANISATION_WORDS for w in folded):
        return False
    given, family = given_names(), surnames()
    return folded[0] in given and all(w in given or w in family for w in folded[1:])


def person_reason(party: Any, extra_schemes: frozenset[str] = frozenset()) -> str | None:
    """Why a party or organisation reference is a person (a signal's name), or None for an organisation."""
    if not isinstance(party, dict):
        return None
    scale = c.text(c.obj(party, "details"), "scale")
    if scale and scale.strip().lower() in PERSON_SCALES:
        return "details.scale"
    identifier = c.obj(party, "identifier")
    scheme = c.text(identifier, "scheme")
    if scheme and (scheme in PERSON_SCHEMES or scheme in extra_schemes):
        return "identifier.scheme"
    number = c.ident(identifier)
    if scheme in _RFC_SCHEMES and number and _PERSON_RFC.match(number.strip().upper()):
        return "identifier.scheme"
    name = c.text(party, "name") or c.text(identifier, "legalName")
    if name and reads_as_person_name(name):
        return "name"
    return None


def references(release: c.Release) -> Iterable[dict[str, Any]]:
    """Every party and organisation reference of a compiled release."""
    tender = c.obj(release, "tender")
    yield from c.arr(release, "parties")
    for party in (c.obj(release, "buyer"), c.obj(tender, "procuringEntity")):
        if party:
            yield party
    yield from c.arr(tender, "tenderers")
    for bid in c.bids(release):
        yield from c.arr(bid, "tenderers")
    for award in c.awards(release):
        yield from c.arr(award, "suppliers")
    for contract in c.arr(release, "contracts"):
        for transaction in c.arr(c.obj(contract, "implementation"), "transactions"):
            for role in ("payer", "payee"):
                if c.obj(transaction, role):
                    yield c.obj(transaction, role)


def person_ids(release: c.Release, extra_schemes: frozenset[str] = frozenset()) -> set[str]:
    """The ids (``id``, and ``identifier.id``) of the people among a release's parties and references."""
    from procurement.tables import org_id

    found: set[str] = set()
    for party in references(release):
        if person_reason(party, extra_schemes) is not None:
            for identifier in (org_id(party), c.ident(c.obj(party, "identifier"))):
                if identifier is not None:
                    found.add(identifier)
    return found
