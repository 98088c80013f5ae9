"""Build ``data/requests.csv`` from the NYC 311 service-request extract in ``data/311_nyc_sample.csv``.

The origin (999 requests x 41 columns, created 2011-03-01 to 2011-03-03 plus one on 2011-11-02) comes
from NYC Open Data by way of the tuplex repository (see ../NOTICE). This script:

* keeps 24 of the 41 columns, renamed to snake_case; it leaves out the duplicated or empty ones
  (Agency Name, Location, Park Borough, Vehicle Type, Taxi Company Borough, bridge/highway/taxi fields,
  Landmark, Facility Type, Park Facility Name, Resolution Action Updated Date) and the ones that would pin
  a request to a building behind the policy's back (BBL tax lot, X/Y State Plane coordinates);
* writes dates as ISO ``YYYY-MM-DDTHH:MM:SS`` (New York local time, as in the origin);
* collapses runs of whitespace ("EAST   23 STREET") and repairs one mojibake: "Â\\u00a0", a UTF-8
  non-breaking space read as Latin-1, becomes a plain space;
* adds two SYNTHETIC contact columns, ``caller_email`` (``@example.test``) and ``caller_phone``
  (555-01xx numbers, reserved for fiction), drawn from ``random.Random(SEED)``, so that the privacy
  policy has contact data to handle. They are not in the origin and belong to nobody.

Deterministic, standard library only::

    python datasets/city/build_requests.py             # rewrites data/requests.csv
    python datasets/city/build_requests.py --out x.csv
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORIGIN = HERE / "data" / "311_nyc_sample.csv"
OUT = HERE / "data" / "requests.csv"
SEED = 311

# origin header -> published name, in output order (the synthetic columns come last).
RENAME = {
    "Unique Key": "unique_key",
    "Created Date": "created_date",
    "Closed Date": "closed_date",
    "Due Date": "due_date",
    "Agency": "agency",
    "Complaint Type": "complaint_type",
    "Descriptor": "descriptor",
    "Location Type": "location_type",
    "Incident Zip": "incident_zip",
    "Incident Address": "incident_address",
    "Street Name": "street_name",
    "Cross Street 1": "cross_street_1",
    "Cross Street 2": "cross_street_2",
    "Intersection Street 1": "intersection_street_1",
    "Intersection Street 2": "intersection_street_2",
    "Address Type": "address_type",
    "City": "city",
    "Status": "status",
    "Resolution Description": "resolution_description",
    "Community Board": "community_board",
    "Borough": "borough",
    "Open Data Channel Type": "open_data_channel_type",
    "Latitude": "latitude",
    "Longitude": "longitude",
}
DATES = {"created_date", "closed_date", "due_date"}
COLUMNS = [*RENAME.values(), "caller_email", "caller_phone"]

FIRST = ["maria", "jose", "wei", "aisha", "james", "fatima", "david", "olga", "kwame", "sofia", "liam",
         "priya", "chen", "noah", "amara", "ivan", "grace", "omar", "lucia", "samuel"]  # fmt: skip
LAST = ["rivera", "chen", "okafor", "cohen", "smith", "nguyen", "kowalski", "haddad", "johnson", "park",
        "garcia", "rossi", "murphy", "ali", "santos", "kim", "brown", "levy", "mensah", "ortiz"]  # fmt: skip
AREA_CODES = {"MANHATTAN": ["212", "646", "917"]}
OTHER_AREA_CODES = ["718", "347", "929", "917"]


def iso(value: str) -> str:
    """'03/02/2011 01:29:28 PM' -> '2011-03-02T13:29:28'; '' stays ''."""
    return datetime.strptime(value, "%m/%d/%Y %I:%M:%S %p").strftime("%Y-%m-%dT%H:%M:%S") if value else ""


def clean(value: str) -> str:
    return " ".join(value.replace("\u00c2\u00a0", " ").split())


def contact(rng: random.Random, channel: str, borough: str) -> tuple[str, str]:
    """A made-up caller: phone callers mostly leave a number, online ones an email, unknown neither."""
    wants_phone = {"PHONE": 0.9, "ONLINE": 0.3}.get(channel, 0.0)
    wants_email = {"PHONE": 0.35, "ONLINE": 1.0}.get(channel, 0.0)
    # Draw every number in the same order whatever the branch, so one row never shifts the next.
    first, last, tag = rng.choice(FIRST), rng.choice(LAST), rng.randrange(100)
    style, area, line = (
        rng.randrange(3),
        rng.choice(AREA_CODES.get(borough, OTHER_AREA_CODES)),
        rng.randrange(100),
    )
    phone_roll, email_roll = rng.random(), rng.random()
    local = [f"{first}.{last}", f"{first[0]}{last}{tag:02d}", f"{first}{tag:02d}"][style]
    email = f"{local}@example.test" if email_roll < wants_email else ""
    phone = f"{area}-555-01{line:02d}" if phone_roll < wants_phone else ""
    return email, phone


def build(out: Path = OUT, origin: Path = ORIGIN) -> int:
    rng = random.Random(SEED)
    rows = []
    with origin.open(encoding="utf-8", newline="") as handle:
        for raw in csv.DictReader(handle):
            row = {new: clean(raw[old]) for old, new in RENAME.items()}
            for name in DATES:
                row[name] = iso(row[name])
            row["caller_email"], row["caller_phone"] = contact(
                rng, row["open_data_channel_type"], row["borough"]
            )
            rows.append(row)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"CSV to write (default {OUT})")
    args = parser.parse_args()
    print(f"wrote {build(args.out)} service requests to {args.out}")


if __name__ == "__main__":
    main()
