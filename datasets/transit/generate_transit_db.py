"""Generate ``data/transit.sqlite``: a fictional city's fare-card system, two weeks of tap-ons.

Metro Transit is a demo agency: every stop, route, trip and card here is made up by this script from
``random.Random(SEED)``, so the same command always writes the same rows. The shape follows what a fare
system exports to its data team:

* ``stops`` (60): stop_id, stop_name (an intersection), stop_lat, stop_lon, fare_zone;
* ``routes`` (8): route_id, route_short_name, route_long_name, route_type (GTFS: 0 tram, 3 bus), route_color;
* ``route_stops``: which stops each route serves, in order;
* ``trips``: one per scheduled departure, 2024-03-04 (Monday) to 2024-03-17, 05:00-23:30, both directions;
* ``tap_ons`` (20,000): one row per card tap at a stop: tap_id, tapped_at (local time,
  ``YYYY-MM-DDTHH:MM:SS``), stop_id, route_id, trip_id, card_id (``CARD-7F3A9C21``), fare_cents,
  fare_product, and for registered cards the rider's rider_birth_year, rider_home_postcode (5 digits) and
  rider_email (``@example.test``; some registered riders gave none). Anonymous cards carry none of them.

Fares: stored value 275 cents, reduced (riders born before 1960 or after 2005) 125, day pass 700 on its
first tap of a day, monthly pass 0; a stored-value or reduced tap within 90 minutes of the card's previous
paid tap is a free ``transfer``.

Standard library only::

    python datasets/transit/generate_transit_db.py            # rewrites data/transit.sqlite
    python datasets/transit/generate_transit_db.py --out x.sqlite
"""

from __future__ import annotations

import argparse
import random
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "data" / "transit.sqlite"
SEED = 20240304
FIRST_DAY = date(2024, 3, 4)
DAYS = 14
TAPS = 20_000
CARDS = 3_000

STREETS = ["Main St", "Oak Ave", "River Rd", "Lake St", "Pine St", "Cedar Ave", "Union Blvd", "Market St",
           "Hill Rd", "Park Ave", "Elm St", "Mill St", "Bridge St", "College Ave", "Harbor Dr"]  # fmt: skip
CROSS = ["1st Ave", "2nd Ave", "3rd Ave", "4th Ave", "5th Ave", "6th Ave", "7th Ave", "8th Ave", "9th Ave",
         "10th Ave", "Central Station", "Airport Terminal", "Stadium", "Hospital", "University"]  # fmt: skip
ROUTES = [
    ("R1", "1", "Main Street Line", 0, "D62828"),
    ("R2", "2", "River Road Line", 0, "1F77B4"),
    ("R10", "10", "Oak Avenue Local", 3, "2CA02C"),
    ("R14", "14", "Lake Street Crosstown", 3, "9467BD"),
    ("R21", "21", "Airport Express", 3, "FF7F0E"),
    ("R33", "33", "University Shuttle", 3, "8C564B"),
    ("R47", "47", "Harbor Loop", 3, "E377C2"),
    ("R62", "62", "Night Owl", 3, "7F7F7F"),
]
PRODUCTS = {"stored-value": 275, "reduced": 125, "day-pass": 700, "monthly-pass": 0, "transfer": 0}
# Three-digit postcode prefixes: the metro area, the region, and a few far-away visitors.
HOME_PREFIXES = [("554", 40), ("551", 18), ("553", 14), ("550", 8), ("560", 5), ("544", 2), ("606", 1),
                 ("100", 1), ("941", 1)]  # fmt: skip
HOUR_WEIGHTS = [0, 0, 0, 0, 0, 2, 6, 14, 16, 9, 6, 6, 7, 6, 6, 8, 13, 15, 10, 6, 4, 3, 2, 1]
EMAIL_FIRST = ["alex", "sam", "jordan", "maya", "li", "omar", "nina", "tom", "ana", "ravi", "zoe", "ben"]
EMAIL_LAST = ["lee", "garcia", "novak", "smith", "khan", "berg", "olsen", "diaz", "ito", "moreau"]

SCHEMA = """
CREATE TABLE stops (stop_id TEXT PRIMARY KEY, stop_name TEXT NOT NULL, stop_lat REAL NOT NULL,
                    stop_lon REAL NOT NULL, fare_zone INTEGER NOT NULL);
CREATE TABLE routes (route_id TEXT PRIMARY KEY, route_short_name TEXT NOT NULL, route_long_name TEXT NOT NULL,
                     route_type INTEGER NOT NULL, route_color TEXT NOT NULL);
CREATE TABLE route_stops (route_id TEXT NOT NULL REFERENCES routes, stop_sequence INTEGER NOT NULL,
                          stop_id TEXT NOT NULL REFERENCES stops, PRIMARY KEY (route_id, stop_sequence));
CREATE TABLE trips (trip_id INTEGER PRIMARY KEY, route_id TEXT NOT NULL REFERENCES routes,
                    service_date TEXT NOT NULL, direction_id INTEGER NOT NULL, departure_time TEXT NOT NULL,
                    headsign TEXT NOT NULL);
CREATE TABLE tap_ons (tap_id INTEGER PRIMARY KEY, tapped_at TEXT NOT NULL,
                      stop_id TEXT NOT NULL REFERENCES stops, route_id TEXT NOT NULL REFERENCES routes,
                      trip_id INTEGER NOT NULL REFERENCES trips, card_id TEXT NOT NULL,
                      fare_cents INTEGER NOT NULL, fare_product TEXT NOT NULL, rider_birth_year INTEGER,
                      rider_home_postcode TEXT, rider_email TEXT);
"""


def make_stops(rng: random.Random) -> list[tuple]:
    names = rng.sample([f"{s} & {c}" for s in STREETS for c in CROSS], 60)
    stops = []
    for number, name in enumerate(names, start=1):
        lat, lon = 44.90 + rng.random() * 0.12, -93.35 + rng.random() * 0.20
        zone = 1 if abs(lat - 44.96) + abs(lon + 93.25) < 0.07 else 2 if rng.random() < 0.7 else 3
        stops.append((f"S{number:03d}", name, round(lat, 6), round(lon, 6), zone))
    return stops


def make_route_stops(rng: random.Random, stops: list[tuple]) -> dict[str, list[str]]:
    ids = [s[0] for s in stops]
    return {route[0]: rng.sample(ids, rng.randint(9, 16)) for route in ROUTES}


def make_trips(served: dict[str, list[str]], stops: dict[str, str]) -> list[tuple]:
    trips = []
    for day in range(DAYS):
        service = FIRST_DAY + timedelta(days=day)
        weekend = service.weekday() >= 5
        for route_id, short, _name, _type, _color in ROUTES:
            night = route_id == "R62"
            first, last, headway = (
                (22 * 60, 29 * 60, 60) if night else (5 * 60, 23 * 60 + 30, 40 if weekend else 30)
            )
            for direction in (0, 1):
                terminus = stops[served[route_id][-1 if direction == 0 else 0]]
                for minute in range(first + direction * 5, last, headway):
                    hh, mm = divmod(minute, 60)  # GTFS style: 24:30 is half past midnight of the next day
                    trips.append(
                        (
                            len(trips) + 1,
                            route_id,
                            service.isoformat(),
                            direction,
                            f"{hh:02d}:{mm:02d}:00",
                            f"{short} {terminus}",
                        )
                    )
    return trips


def make_cards(rng: random.Random) -> list[dict]:
    cards, seen = [], set()
    prefixes = [p for p, _ in HOME_PREFIXES]
    weights = [w for _, w in HOME_PREFIXES]
    while len(cards) < CARDS:
        card_id = f"CARD-{rng.getrandbits(32):08X}"
        registered = rng.random() < 0.6
        birth = max(1932, min(2010, round(rng.gauss(1984, 15)))) if registered else None
        postcode = f"{rng.choices(prefixes, weights)[0]}{rng.randrange(100):02d}" if registered else None
        email = None
        if registered and rng.random() < 0.85:
            email = f"{rng.choice(EMAIL_FIRST)}.{rng.choice(EMAIL_LAST)}{rng.randrange(1000)}@example.test"
        if birth is not None and (birth < 1960 or birth > 2005):
            product = "reduced"
        else:
            product = rng.choices(
                ["stored-value", "day-pass", "monthly-pass"], [60, 10, 30 if registered else 5]
            )[0]
        if card_id not in seen:
            seen.add(card_id)
            cards.append(
                {
                    "card_id": card_id,
                    "birth": birth,
                    "postcode": postcode,
                    "email": email,
                    "product": product,
                    "activity": rng.paretovariate(1.5),
                }
            )
    return cards


def make_taps(
    rng: random.Random, cards: list[dict], trips: list[tuple], served: dict[str, list[str]]
) -> list[tuple]:
    by_hour: dict[int, list[tuple]] = {}
    for trip in trips:
        by_hour.setdefault(int(trip[4][:2]) % 24, []).append(trip)
    hours = list(range(24))
    weights = [w + (1 if 22 <= h or h < 2 else 0) for h, w in enumerate(HOUR_WEIGHTS)]
    activity = [c["activity"] for c in cards]
    raw = []
    for _ in range(TAPS):
        card = rng.choices(cards, activity)[0]
        trip_id, route_id, service, direction, departure, _headsign = rng.choice(
            by_hour[rng.choices(hours, weights)[0]]
        )
        sequence = served[route_id] if direction == 0 else served[route_id][::-1]
        position = rng.randrange(len(sequence) - 1)  # nobody boards at the last stop
        hh, mm, _ = map(int, departure.split(":"))
        start = datetime.fromisoformat(service) + timedelta(hours=hh, minutes=mm)
        tapped = start + timedelta(minutes=2 * position, seconds=rng.randrange(-90, 60))
        raw.append((tapped, sequence[position], route_id, trip_id, card))
    raw.sort(key=lambda t: (t[0], t[4]["card_id"], t[3]))
    taps, last_paid, pass_day = [], {}, {}
    for tap_id, (tapped, stop_id, route_id, trip_id, card) in enumerate(raw, start=1):
        product, cid = card["product"], card["card_id"]
        if product in ("stored-value", "reduced"):
            if cid in last_paid and tapped - last_paid[cid] <= timedelta(minutes=90):
                product = "transfer"
            else:
                last_paid[cid] = tapped
            fare = PRODUCTS[product]
        elif product == "day-pass":
            fare = 0 if pass_day.get(cid) == tapped.date() else PRODUCTS[product]
            pass_day[cid] = tapped.date()
        else:
            fare = PRODUCTS[product]
        taps.append(
            (
                tap_id,
                tapped.strftime("%Y-%m-%dT%H:%M:%S"),
                stop_id,
                route_id,
                trip_id,
                cid,
                fare,
                product,
                card["birth"],
                card["postcode"],
                card["email"],
            )
        )
    return taps


def generate(out: Path = OUT) -> dict[str, int]:
    rng = random.Random(SEED)
    stops = make_stops(rng)
    served = make_route_stops(rng, stops)
    trips = make_trips(served, {s[0]: s[1] for s in stops})
    taps = make_taps(rng, make_cards(rng), trips, served)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    db = sqlite3.connect(out)
    try:
        db.executescript(SCHEMA)
        db.executemany("INSERT INTO stops VALUES (?, ?, ?, ?, ?)", stops)
        db.executemany("INSERT INTO routes VALUES (?, ?, ?, ?, ?)", ROUTES)
        db.executemany(
            "INSERT INTO route_stops VALUES (?, ?, ?)",
            [(r, n, s) for r, seq in served.items() for n, s in enumerate(seq, start=1)],
        )
        db.executemany("INSERT INTO trips VALUES (?, ?, ?, ?, ?, ?)", trips)
        db.executemany("INSERT INTO tap_ons VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", taps)
        db.commit()
        db.execute("VACUUM")
    finally:
        db.close()
    return {"stops": len(stops), "routes": len(ROUTES), "trips": len(trips), "tap_ons": len(taps)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"SQLite file to write (default {OUT})")
    args = parser.parse_args()
    counts = generate(args.out)
    print(f"wrote {args.out}: " + ", ".join(f"{n} {table}" for table, n in counts.items()))


if __name__ == "__main__":
    main()
