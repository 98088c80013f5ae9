"""What the procurement pages show: a family's red flags joined to its published tables (DuckDB)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.engine import QueryEngine
from catalog.models import Release
from catalog.store import Catalog
from opendata.errors import CatalogError
from procurement.explain import INDICATORS, reason
from procurement.results import FILE
from procurement.served import STORE


@dataclass(frozen=True)
class Flag:
    code: str
    title: str
    reason: str
    methodology: str


@dataclass(frozen=True)
class ProcessRow:
    ocid: str
    title: str | None
    buyer: str | None
    method: str | None
    flags: list[Flag] = field(default_factory=list)


@dataclass(frozen=True)
class OrganizationPage:
    family: str
    kind: str  # buyer or supplier
    identifier: str
    name: str
    flags: list[Flag]
    processes: list[ProcessRow]
    release: Release
    transparency: dict[str, Any] | None = None


def _flags(found: dict[str, float], organization: bool) -> list[Flag]:
    return [Flag(code, INDICATORS[code].title, reason(code, value, organization), INDICATORS[code].methodology)
            for code, value in sorted(found.items()) if code in INDICATORS]


def _document(engine: QueryEngine, processes: Release) -> dict[str, Any]:
    """The release's red-flags.json, parsed once per immutable file (``procurement.served``): shared, read
    only."""
    return STORE.document((processes.dataset, processes.number, processes.files[FILE]),
                          lambda: engine.storage.read_bytes(processes, FILE))


def _latest(catalog: Catalog, family: str, table: str) -> Release:
    return catalog.release(f"{family}-{table}")


def _party_name(catalog: Catalog, engine: QueryEngine, family: str, identifier: str) -> str | None:
    try:
        parties = _latest(catalog, family, "parties")
    except CatalogError:
        return None
    relation, params = engine.relation(parties)
    found = engine.execute(f"SELECT any_value(name) AS name FROM {relation} WHERE party_id = ?",
                           [*params, identifier]).to_pylist()
    return str(found[0]["name"]) if found and found[0]["name"] else None


def organization_page(catalog: Catalog, engine: QueryEngine, family: str, kind: str, identifier: str,
                      limit: int = 500) -> OrganizationPage:
    """A buyer's or supplier's flags and the flagged processes behind them. CatalogError when the family or
    the organisation is not published."""
    processes = _latest(catalog, family, "processes")
    if FILE not in processes.files:
        raise CatalogError(f"'{family}' is not a published procurement family")
    document = _document(engine, processes)
    relation, params = engine.relation(processes)
    if kind == "buyer":
        own = {**document.get("Buyer", {}).get(identifier, {}),
               **document.get("ProcuringEntity", {}).get(identifier, {})}
        rows = engine.execute(f"SELECT ocid, title, buyer_name, procurement_method FROM "
                              f"{relation} WHERE buyer_id = ? ORDER BY ocid", [*params, identifier]).to_pylist()
    else:
        own = document.get("Tenderer", {}).get(identifier, {})
        awards = _latest(catalog, family, "awards")
        bids = _latest(catalog, family, "bids")
        award_rel, award_params = engine.relation(awards)
        bid_rel, bid_params = engine.relation(bids)
        rows = engine.execute(
            f"WITH mine AS (SELECT ocid FROM {award_rel} WHERE list_contains(string_split(supplier_ids, '; '), ?) "
            f"UNION SELECT ocid FROM {bid_rel} WHERE list_contains(string_split(tenderer_ids, '; '), ?)) "
            f"SELECT p.ocid, p.title, p.buyer_name, p.procurement_method FROM {relation} p "
            f"JOIN mine USING (ocid) ORDER BY p.ocid",
            [*award_params, identifier, *bid_params, identifier, *params]).to_pylist()
    if not rows and not own:
        raise CatalogError(f"no {kind} '{identifier}' in '{family}'")
    flagged = document.get("OCID", {})
    listed = [ProcessRow(r["ocid"], r["title"], r["buyer_name"], r["procurement_method"],
                         _flags(flagged.get(r["ocid"], {}), False)) for r in rows]
    listed.sort(key=lambda p: (not p.flags, p.ocid))
    name = _party_name(catalog, engine, family, identifier) or identifier
    return OrganizationPage(family=family, kind=kind, identifier=identifier, name=name,
                            flags=_flags(own, True), processes=listed[:limit], release=processes,
                            transparency=document.get("Transparency", {}).get(identifier) if kind == "buyer" else None)


@dataclass(frozen=True)
class OrganizationLink:
    identifier: str
    name: str
    processes: int
    flagged_processes: int
    own_flags: int


def family_index(catalog: Catalog, engine: QueryEngine, family: str) -> tuple[Release, list[OrganizationLink],
                                                                               list[OrganizationLink]]:
    """Every buyer and supplier of a family, with how many of their processes raise a flag."""
    processes = _latest(catalog, family, "processes")
    if FILE not in processes.files:
        raise CatalogError(f"'{family}' is not a published procurement family")
    document = _document(engine, processes)
    flagged = set(document.get("OCID", {}))
    relation, params = engine.relation(processes)
    buyers = engine.execute(f"SELECT buyer_id AS id, any_value(buyer_name) AS name, list(ocid) AS ocids FROM "
                            f"{relation} WHERE buyer_id IS NOT NULL GROUP BY buyer_id ORDER BY name", params)
    awards = _latest(catalog, family, "awards")
    award_rel, award_params = engine.relation(awards)
    suppliers = engine.execute(
        f"SELECT id, any_value(name) AS name, list(DISTINCT ocid) AS ocids FROM (SELECT ocid, "
        f"unnest(string_split(supplier_ids, '; ')) AS id, supplier_names AS name FROM {award_rel} "
        f"WHERE supplier_ids IS NOT NULL AND status = 'active') GROUP BY id ORDER BY name", award_params)

    def links(rows: list[dict[str, Any]], groups: tuple[str, ...]) -> list[OrganizationLink]:
        return [OrganizationLink(str(r["id"]), str(r["name"] or r["id"]), len(r["ocids"]),
                                 sum(o in flagged for o in r["ocids"]),
                                 sum(len(document.get(g, {}).get(str(r["id"]), {})) for g in groups))
                for r in rows]

    return (processes, links(buyers.to_pylist(), ("Buyer", "ProcuringEntity")),
            links(suppliers.to_pylist(), ("Tenderer",)))
