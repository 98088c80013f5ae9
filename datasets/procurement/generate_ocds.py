"""Generate ``data/releases.jsonl``: a fictional national procurement agency's OCDS 1.1 releases.

Everything here is made up by this script from ``random.Random(SEED)``, so the same command always writes
the same lines. 300 contracting processes of 6 buyers: open, selective, limited and direct procedures,
tenders with lots, bids with statuses (valid, disqualified, withdrawn), awards, contracts, payments and
contract amendments, each process published as the releases a real system emits over its life (tender,
award, contract, implementation, amendment: one JSON line per release, merged per ``ocid`` at publish).
Parties carry contact persons (names, e-mails, phones), which the job's privacy policy drops.

Some processes are built to raise each red flag (Cardinal's codes): a 3-day submission period (R003), a
single bid in an open tender (R018), a runner-up within 0.2% of the winner (R024) or far above it (R058),
identical prices (R028), a late winning bid (R030), all but the winner disqualified (R035), the lowest bid
disqualified (R036), a serial losing bidder (R025), a buyer that disqualifies most bids and a tenderer whose
bids are mostly disqualified (R038), a supplier of everything (R048); and for ProACT's indicators, late
awards (P002), a buyer's favourite supplier (P003), amended contract values (P004), late deliveries (P005)
and open tenders without a published call (P006). One process is in another currency.

Standard library only::

    python datasets/procurement/generate_ocds.py             # rewrites data/releases.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SEED = 1414
PROCESSES = 300
PREFIX = "ocds-demo01"
HERE = Path(__file__).parent
BUYERS = [("NPA-B01", "Ministry of Health"), ("NPA-B02", "Ministry of Education"), ("NPA-B03", "Roads Authority"),
          ("NPA-B04", "City Water Utility"), ("NPA-B05", "National Rail Service"), ("NPA-B06", "Tax Administration")]
DIVISIONS = ["30", "33", "34", "39", "44", "45", "48", "50", "71", "72", "79", "85", "90", "09", "15", "22"]
FIRST = ["Ana", "Luis", "Marta", "Jorge", "Sofia", "Pedro", "Elena", "Tomas", "Irene", "Pablo", "Nora", "Ivan"]
LAST = ["Garcia", "Lopez", "Moreno", "Navarro", "Ortega", "Ramos", "Serrano", "Vidal", "Castro", "Rubio"]
FLAGS = ["R003", "R018", "R024", "R058", "R028", "R030", "R035", "R036"]


def person(rng: random.Random, domain: str) -> dict[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {"name": f"{first} {last}", "email": f"{first.lower()}.{last.lower()}@{domain}.example",
            "telephone": f"+99 {rng.randint(200, 999)} {rng.randint(1000, 9999)}"}


def suppliers(rng: random.Random) -> list[dict[str, Any]]:
    found = []
    for number in range(1, 41):
        name = f"{rng.choice(['Alfa', 'Beta', 'Delta', 'Norte', 'Sur', 'Orion', 'Vega', 'Atlas'])} " \
               f"{rng.choice(['Supplies', 'Works', 'Medical', 'Systems', 'Services', 'Trading'])} {number:02d} Ltd"
        found.append({"id": f"NPA-S{number:02d}", "name": name, "division": DIVISIONS[number % len(DIVISIONS)],
                      "others": [DIVISIONS[(number * k) % len(DIVISIONS)] for k in (3, 7) if number % k == 0]})
    return found


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def party(org_id: str, name: str, roles: list[str], rng: random.Random) -> dict[str, Any]:
    return {"id": org_id, "name": name, "roles": roles,
            "identifier": {"scheme": "XX-NPA", "id": org_id, "legalName": name},
            "address": {"locality": rng.choice(["Capital City", "Port Town", "Hill Town"]), "countryName": "Demoland"},
            "contactPoint": person(rng, "npa" if org_id.startswith("NPA-B") else "supplier")}


def process(n: int, rng: random.Random, firms: list[dict[str, Any]], flag: str | None) -> list[dict[str, Any]]:
    ocid = f"{PREFIX}-{n:04d}"
    buyer_id, buyer_name = BUYERS[n % len(BUYERS)]
    if flag == "R038-buyer":
        buyer_id, buyer_name = BUYERS[5]
    start = datetime(2024, 1, 1, 9, tzinfo=UTC) + timedelta(days=n)
    method = "direct" if n % 9 == 0 and flag is None else "selective" if n % 7 == 0 else "open"
    period = 3 if flag == "R003" else rng.randint(20, 40)
    end = start + timedelta(days=period)
    currency = "EUR" if n == 150 else "USD"
    base = rng.randint(20, 500) * 1000
    specialist = [f for f in firms if f["division"] == DIVISIONS[n % len(DIVISIONS)]] or firms
    bidders = rng.sample(firms, 4)
    if specialist and specialist[0] not in bidders:
        bidders[0] = specialist[0]
    if flag == "R048" or (flag is None and n % 5 == 0):
        bidders[0] = firms[0]  # NPA-S01 wins in every division
    if buyer_id == "NPA-B04" and flag is None:  # the water utility's favourite supplier
        bidders[0] = firms[2]
    if flag == "R018" or method == "direct":
        bidders = bidders[:1]
    if flag == "R025" or (flag is None and n % 3 == 0):
        bidders = [b for b in bidders if b["id"] != firms[39]["id"]][:3] + [firms[39]]  # always loses
    bidders = list({b["id"]: b for b in bidders}.values())  # one bid per tenderer
    winning = base * (1 + rng.uniform(0.03, 0.08))
    prices = [round(winning, 2)]
    for _ in bidders[1:]:  # the runner-up 5-8% above the winner; the others further up
        prices.append(round(prices[-1] * (1 + (rng.uniform(0.05, 0.08) if len(prices) == 1 else
                                              rng.uniform(0.01, 0.2))), 2))
    if flag == "R024":
        prices[1] = round(prices[0] * 1.002, 2)
    if flag == "R058":
        prices[1] = round(prices[0] * 3.5, 2)
    if flag == "R028":
        prices[2] = prices[1]
    if bidders[-1]["id"] == firms[39]["id"] and len(prices) > 2:
        prices[-1] = round(prices[-1] * 1.3, 2)
    statuses = ["valid"] * len(bidders)
    if flag == "R035":
        statuses = ["valid"] + ["disqualified"] * (len(bidders) - 1)
    if flag == "R036":
        statuses[0] = "disqualified"
    if flag == "R038-buyer":
        statuses = ["valid"] + ["disqualified"] * (len(bidders) - 1)
    if flag == "R038-tenderer":
        bidders[-1] = firms[38]
        statuses[-1] = "disqualified"
    if len(bidders) > 3 and n % 11 == 0:
        statuses[2] = "withdrawn"
    winner_index = statuses.index("valid")
    winner = bidders[winner_index]
    received = [start + timedelta(days=rng.randint(1, period), hours=rng.randint(0, 8)) for _ in bidders]
    received = [min(r, end - timedelta(hours=1)) for r in received]
    if flag == "R030":
        received[winner_index] = end + timedelta(days=2)
    division = rng.choice(DIVISIONS) if winner["id"] == "NPA-S01" else \
        rng.choice([winner["division"], winner["division"], *winner["others"]])
    lots = [{"id": f"{ocid}-lot-{i}", "title": f"Lot {i}", "status": "active",
             "value": {"amount": base // 2, "currency": currency}} for i in (1, 2)] if n % 6 == 0 else []
    items = [{"id": "1", "description": f"Goods and services for {buyer_name.lower()}",
              "classification": {"scheme": "CPV", "id": f"{division}100000"}, "quantity": rng.randint(1, 50),
              "unit": {"name": "unit", "value": {"amount": round(prices[winner_index] / 10, 2),
                                                 "currency": currency}},
              **({"relatedLot": lots[0]["id"]} if lots else {})}]
    tender = {"id": f"{ocid}-tender", "title": f"{buyer_name}: purchase {n}", "status": "active",
              "procurementMethod": method, "procurementMethodDetails": {"open": "Open tender",
                                                                        "selective": "Restricted tender",
                                                                        "direct": "Direct award"}[method],
              "mainProcurementCategory": rng.choice(["goods", "services", "works"]),
              "awardCriteria": "priceOnly", "submissionMethod": ["electronicSubmission"],
              "value": {"amount": base * 1.3, "currency": currency},
              "tenderPeriod": {"endDate": iso(end)} if n % 50 == 7 else {"startDate": iso(start), "endDate": iso(end)},
              "procuringEntity": {"id": buyer_id, "name": buyer_name}, "items": items, "lots": lots}
    parties = [party(buyer_id, buyer_name, ["buyer", "procuringEntity"], rng)]
    parties += [party(b["id"], b["name"], ["tenderer"] + (["supplier"] if b is winner else []), rng)
                for b in bidders]
    if buyer_id == "NPA-B05" and n % 4 == 0:  # the rail service leaves out some key fields
        del tender["value"], tender["items"][0]["classification"]
    common = {"ocid": ocid, "initiationType": "tender", "language": "en",
              "buyer": {"id": buyer_id, "name": buyer_name}}
    releases = [{**common, "id": f"{ocid}-01-tender", "date": iso(start), "tag": ["tender"], "tender": tender,
                 "parties": parties[:1]}]
    award_date = end + timedelta(days=150 if n % 45 == 0 else rng.randint(6, 40))
    bids = [{"id": f"{ocid}-bid-{i + 1}", "status": statuses[i], "date": iso(received[i]),
             "tenderers": [{"id": b["id"], "name": b["name"]}],
             "value": {"amount": prices[i], "currency": currency},
             **({"relatedLots": [lots[0]["id"]]} if lots else {})} for i, b in enumerate(bidders)]
    award = {"id": f"{ocid}-award-1", "title": "Award", "status": "active", "date": iso(award_date),
             "value": {"amount": prices[winner_index], "currency": currency},
             "suppliers": [{"id": winner["id"], "name": winner["name"]}], "relatedBid": bids[winner_index]["id"],
             "items": items, **({"relatedLots": [lots[0]["id"]]} if lots else {})}
    releases.append({**common, "id": f"{ocid}-02-award", "date": iso(award_date), "tag": ["award"],
                     "tender": {"id": tender["id"], "status": "complete", "numberOfTenderers": len(bidders)},
                     "bids": {"details": bids}, "awards": [award], "parties": parties})
    signed = award_date + timedelta(days=rng.randint(3, 20))
    contract = {"id": f"{ocid}-contract-1", "awardID": award["id"], "title": "Contract", "status": "active",
                "dateSigned": iso(signed), "value": {"amount": prices[winner_index], "currency": currency},
                "period": {"startDate": iso(signed), "endDate": iso(signed + timedelta(days=rng.randint(120, 365)))},
                "items": items}
    releases.append({**common, "id": f"{ocid}-03-contract", "date": iso(signed), "tag": ["contract"],
                     "contracts": [contract]})
    paid = [{"id": f"{ocid}-payment-{i + 1}", "source": "https://treasury.example/payments",
             "date": iso(signed + timedelta(days=30 * (i + 1))),
             "value": {"amount": round(prices[winner_index] / 3, 2), "currency": currency},
             "payer": {"id": buyer_id, "name": buyer_name}, "payee": {"id": winner["id"], "name": winner["name"]}}
            for i in range(rng.randint(1, 3))]
    last = signed + timedelta(days=100)
    implementation: dict[str, Any] = {"transactions": paid}
    if n % 25 == 0:  # delivered two months late
        implementation["milestones"] = [{"id": "delivery", "title": "Delivery", "type": "delivery",
                                         "dueDate": iso(signed + timedelta(days=60)),
                                         "dateMet": iso(signed + timedelta(days=120)), "status": "met"}]
    releases.append({**common, "id": f"{ocid}-04-implementation", "date": iso(last), "tag": ["implementation"],
                     "contracts": [{"id": contract["id"], "implementation": implementation}]})
    if n % 8 == 0:
        releases.append({**common, "id": f"{ocid}-05-amendment", "date": iso(last + timedelta(days=20)),
                         "tag": ["contractAmendment"],
                         "contracts": [{"id": contract["id"],
                                        "value": {"amount": round(prices[winner_index] * (
                                            1.4 if n % 40 == 0 else 1.05), 2),
                                                  "currency": currency},
                                        "amendments": [{"id": "1", "date": iso(last + timedelta(days=20)),
                                                        "rationale": "Additional quantities"}]}]})
    return releases


def generate() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    firms = suppliers(rng)
    flags: dict[int, str] = {}
    for index, code in enumerate(FLAGS):
        for k in range(2):
            flags[20 + index * 30 + k * 7] = code
    for k in range(12):
        flags[13 + k * 23] = "R038-buyer" if k % 2 == 0 else "R038-tenderer"
    for k in range(8):
        flags.setdefault(17 + k * 31, "R048")
    releases = []
    for n in range(1, PROCESSES + 1):
        releases += process(n, rng, firms, flags.get(n))
    return releases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "data" / "releases.jsonl")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as handle:
        for release in generate():
            handle.write(json.dumps(release, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
