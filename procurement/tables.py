"""The family of linked tables a compiled release is flattened into, and their Table Schemas.

Every table has ``ocid`` (the contracting process) and the ids that link it to its parent: a lot, item, bid,
award or contract row names its ``ocid``; an award's ``related_bid`` and a contract's ``award_id`` link
across; ``parties.party_id`` is what ``buyer_id``, ``procuring_entity_id``, ``tenderer_ids`` and
``supplier_ids`` refer to (lists are joined with ``"; "``). OCDS 1.0 data without ``parties`` gets them
from the buyer, procuring entity, tenderers and suppliers, contact points included, so that no contact
person escapes the privacy stage.
"""

from __future__ import annotations

from typing import Any

from procurement import compiled as c
from procurement.people import Pseudonym

S, N, INT = "string", "number", "integer"
_MONEY = [("value_amount", N), ("value_currency", S)]

TABLES: dict[str, list[tuple[str, str]]] = {
    "processes": [("ocid", S), ("compiled_release_id", S), ("date", S), ("initiation_type", S), ("language", S),
                  ("buyer_id", S), ("buyer_name", S), ("tender_id", S), ("title", S), ("status", S),
                  ("procurement_method", S), ("main_procurement_category", S), *_MONEY, ("lots", INT), ("bids", INT),
                  ("awards", INT), ("contracts", INT), ("red_flags", S)],
    "tenders": [("ocid", S), ("tender_id", S), ("title", S), ("description", S), ("status", S),
                ("procurement_method", S), ("procurement_method_details", S), ("procurement_method_rationale", S),
                ("main_procurement_category", S), ("award_criteria", S), ("submission_method", S), *_MONEY,
                ("tender_period_start", S), ("tender_period_end", S), ("award_period_start", S),
                ("award_period_end", S), ("number_of_tenderers", INT), ("procuring_entity_id", S),
                ("procuring_entity_name", S)],
    "lots": [("ocid", S), ("lot_id", S), ("title", S), ("description", S), ("status", S), *_MONEY],
    "items": [("ocid", S), ("stage", S), ("parent_id", S), ("item_id", S), ("description", S),
              ("classification_scheme", S), ("classification_id", S), ("quantity", N), ("unit_name", S),
              ("unit_value_amount", N), ("unit_value_currency", S), ("related_lot", S)],
    "bids": [("ocid", S), ("bid_id", S), ("status", S), ("date", S), ("tenderer_ids", S), ("tenderer_names", S),
             *_MONEY, ("related_lots", S)],
    "awards": [("ocid", S), ("award_id", S), ("title", S), ("status", S), ("date", S), *_MONEY,
               ("supplier_ids", S), ("supplier_names", S), ("related_bid", S), ("related_lots", S),
               ("contract_period_start", S), ("contract_period_end", S)],
    "contracts": [("ocid", S), ("contract_id", S), ("award_id", S), ("title", S), ("status", S), ("date_signed", S),
                  *_MONEY, ("period_start", S), ("period_end", S), ("amendments", INT)],
    "transactions": [("ocid", S), ("contract_id", S), ("transaction_id", S), ("date", S), ("source", S), *_MONEY,
                     ("payer_id", S), ("payer_name", S), ("payee_id", S), ("payee_name", S)],
    "parties": [("ocid", S), ("party_id", S), ("name", S), ("roles", S), ("identifier_scheme", S),
                ("identifier_id", S), ("identifier_legal_name", S), ("street_address", S), ("locality", S),
                ("region", S), ("postal_code", S), ("country_name", S), ("contact_point_name", S),
                ("contact_point_email", S), ("contact_point_telephone", S), ("contact_point_fax_number", S),
                ("contact_point_url", S), ("party_kind", S), ("person_name", S), ("beneficial_owners", S)],
}
TITLES = {"processes": "contracting processes", "tenders": "tenders", "lots": "lots", "items": "items",
          "bids": "bids", "awards": "awards", "contracts": "contracts",
          "transactions": "implementation transactions", "parties": "parties (organisations)"}

Row = list[Any]


def table_schema(table: str) -> dict[str, Any]:
    """The Frictionless Table Schema of one table of the family."""
    fields = [{"name": name, "type": kind} for name, kind in TABLES[table]]
    schema: dict[str, Any] = {"fields": fields}
    if table == "processes":
        schema["primaryKey"] = ["ocid"]
    return schema


def _money(value: Any) -> list[Any]:
    found = c.amount(value)
    return [found[0], found[1]] if found else [None, None]


def org_id(ref: Any) -> str | None:
    """An organisation reference's id: ``id``, or in OCDS 1.0 data its ``identifier.id``."""
    return c.ident(ref) or c.ident(c.obj(ref, "identifier"))


class People:
    """The people of one release (``procurement.people``): their ids as pseudonyms, their names left out of
    every column but ``parties.person_name``."""

    def __init__(self, persons: set[str] | None = None, pseudonym: Pseudonym | None = None) -> None:
        self.persons = persons or set()
        self.pseudonym = pseudonym

    def id(self, identifier: str | None) -> str | None:
        if identifier is None or identifier not in self.persons:
            return identifier
        assert self.pseudonym is not None, "people found without a pseudonym to publish their ids"
        return self.pseudonym(identifier)

    def is_person(self, ref: Any) -> bool:
        return bool(self.persons) and org_id(ref) in self.persons

    def ref_id(self, ref: Any) -> str | None:
        return self.id(org_id(ref))

    def name(self, ref: Any) -> str | None:
        return None if self.is_person(ref) else c.text(ref, "name")

    def ids(self, refs: list[dict[str, Any]]) -> str | None:
        found = [i for i in (self.ref_id(r) for r in refs) if i is not None]
        return "; ".join(found) or None

    def names(self, refs: list[dict[str, Any]]) -> str | None:
        found = [n for n in (self.name(r) for r in refs) if n]
        return "; ".join(found) or None


NOBODY = People()


def _list(value: Any) -> str | None:
    if not isinstance(value, list):
        return None
    return "; ".join(str(v) for v in value) or None


def _period(value: Any) -> list[Any]:
    period = value if isinstance(value, dict) else {}
    return [c.text(period, "startDate"), c.text(period, "endDate")]


def _items(ocid: str, stage: str, parent: str | None, owner: dict[str, Any]) -> list[Row]:
    rows = []
    for item in c.arr(owner, "items"):
        classification, unit = c.obj(item, "classification"), c.obj(item, "unit")
        quantity = item.get("quantity")
        rows.append([ocid, stage, parent, c.ident(item), c.text(item, "description"),
                     c.text(classification, "scheme"), c.ident(classification),
                     quantity if isinstance(quantity, int | float) and not isinstance(quantity, bool) else None,
                     c.text(unit, "name"), *_money(unit.get("value")), c.text(item, "relatedLot")])
    return rows


def _party_row(ocid: str, party: dict[str, Any], roles: str | None, people: People) -> Row:
    identifier, address, contact = c.obj(party, "identifier"), c.obj(party, "address"), c.obj(party, "contactPoint")
    person = people.is_person(party)
    name, legal_name = c.text(party, "name"), c.text(identifier, "legalName")
    owners = [n for n in (c.text(o, "name") for o in c.arr(party, "beneficialOwners")) if n]
    return [ocid, people.ref_id(party), None if person else name, roles, c.text(identifier, "scheme"),
            people.id(c.ident(identifier)), None if person else legal_name, c.text(address, "streetAddress"),
            c.text(address, "locality"), c.text(address, "region"), c.text(address, "postalCode"),
            c.text(address, "countryName"), c.text(contact, "name"), c.text(contact, "email"),
            c.text(contact, "telephone"), c.text(contact, "faxNumber"), c.text(contact, "url"),
            "person" if person else "organisation", (name or legal_name) if person else None,
            "; ".join(owners) or None]


def _parties(ocid: str, release: c.Release, people: People) -> list[Row]:
    parties = c.arr(release, "parties")
    if parties:
        return [_party_row(ocid, p, _list(p.get("roles")), people) for p in parties]
    tender = c.obj(release, "tender")
    found: list[tuple[dict[str, Any], str]] = []
    for role, party in (("buyer", c.obj(release, "buyer")), ("procuringEntity", c.obj(tender, "procuringEntity"))):
        if party:
            found.append((party, role))
    found += [(t, "tenderer") for t in c.arr(tender, "tenderers")]
    found += [(t, "tenderer") for b in c.bids(release) for t in c.arr(b, "tenderers")]
    found += [(s, "supplier") for a in c.awards(release) for s in c.arr(a, "suppliers")]
    rows: dict[tuple[Any, Any], Row] = {}
    for party, role in found:
        row = _party_row(ocid, party, role, people)
        key = (row[1], row[2] or row[18])
        if key in rows:
            roles = set(str(rows[key][3]).split("; "))
            rows[key][3] = "; ".join(sorted(roles | {role}))
        else:
            rows[key] = row
    return list(rows.values())


def flatten(release: c.Release, red_flags: str | None = None, people: People = NOBODY) -> dict[str, list[Row]]:
    """One compiled release as rows of each table (Python values; text conversion happens in the batch);
    ``people`` are the release's persons, published by pseudonym (``procurement.people``)."""
    ocid = str(release.get("ocid"))
    tender, buyer = c.obj(release, "tender"), c.obj(release, "buyer")
    bids, awards, contracts = c.bids(release), c.awards(release), c.arr(release, "contracts")
    lots = c.arr(tender, "lots")
    out: dict[str, list[Row]] = {name: [] for name in TABLES}
    out["processes"].append([ocid, c.text(release, "id"), c.text(release, "date"), c.text(release, "initiationType"),
                             c.text(release, "language"), people.ref_id(buyer),
                             people.name(buyer), c.ident(tender), c.text(tender, "title"),
                             c.text(tender, "status"), c.method(release),
                             c.text(tender, "mainProcurementCategory"), *_money(tender.get("value")), len(lots),
                             len(bids), len(awards), len(contracts), red_flags])
    if tender:
        entity = c.obj(tender, "procuringEntity")
        count = tender.get("numberOfTenderers")
        out["tenders"].append([ocid, c.ident(tender), c.text(tender, "title"), c.text(tender, "description"),
                               c.text(tender, "status"), c.method(release), c.method_details(release),
                               c.text(tender, "procurementMethodRationale"),
                               c.text(tender, "mainProcurementCategory"), c.text(tender, "awardCriteria"),
                               _list(tender.get("submissionMethod")), *_money(tender.get("value")),
                               *_period(tender.get("tenderPeriod")), *_period(tender.get("awardPeriod")),
                               count if isinstance(count, int) and not isinstance(count, bool) else None,
                               people.ref_id(entity), people.name(entity)])
        out["items"] += _items(ocid, "tender", c.ident(tender), tender)
    out["lots"] = [[ocid, c.ident(lot), c.text(lot, "title"), c.text(lot, "description"), c.text(lot, "status"),
                    *_money(lot.get("value"))] for lot in lots]
    out["bids"] = [[ocid, c.ident(b), c.text(b, "status"), c.text(b, "date"), people.ids(c.arr(b, "tenderers")),
                    people.names(c.arr(b, "tenderers")), *_money(b.get("value")), _list(b.get("relatedLots"))]
                   for b in bids]
    for award in awards:
        suppliers = c.arr(award, "suppliers")
        out["awards"].append([ocid, c.ident(award), c.text(award, "title"), c.text(award, "status"),
                              c.text(award, "date"), *_money(award.get("value")), people.ids(suppliers),
                              people.names(suppliers),
                              c.text(award, "relatedBid"), _list(award.get("relatedLots")),
                              *_period(award.get("contractPeriod"))])
        out["items"] += _items(ocid, "award", c.ident(award), award)
    for contract in contracts:
        contract_id = c.ident(contract)
        out["contracts"].append([ocid, contract_id, c.ident({"id": contract.get("awardID")}),
                                 c.text(contract, "title"), c.text(contract, "status"),
                                 c.text(contract, "dateSigned"), *_money(contract.get("value")),
                                 *_period(contract.get("period")), len(c.arr(contract, "amendments"))])
        out["items"] += _items(ocid, "contract", contract_id, contract)
        for transaction in c.arr(c.obj(contract, "implementation"), "transactions"):
            payer, payee = c.obj(transaction, "payer"), c.obj(transaction, "payee")
            money = transaction.get("value") or transaction.get("amount")  # OCDS 1.0 called it amount
            out["transactions"].append([ocid, contract_id, c.ident(transaction), c.text(transaction, "date"),
                                        c.text(transaction, "source"), *_money(money), people.ref_id(payer),
                                        people.name(payer), people.ref_id(payee), people.name(payee)])
    out["parties"] = _parties(ocid, release, people)
    return out
