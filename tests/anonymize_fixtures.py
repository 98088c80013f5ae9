"""Tables and jobs the anonymisation tests share: seeded personal data, and typical open data."""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa
from faker import Faker

from publishers.job import Job

LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR"]
NOTE_TEMPLATES = [
    "Caller {name} reported a broken streetlight near the school, call back on {phone}.",
    "{name} called about loud music from the neighbours after midnight. Email {email}",
    "Complaint filed by {name} regarding illegal parking in front of the garage.",
    "Spoke with {name}; she will send photos to {email} and wants a follow up next week.",
    "Resident {name} says the bins were not collected, reach her at {phone}.",
]


def make_job(privacy: dict[str, Any] | None = None, name: str = "service-requests") -> Job:
    return Job.model_validate({
        "name": name, "title": "Service requests", "organization": "city-of-example",
        "license": "CC-BY-4.0", "source": {"type": "csv", "path": "x.csv"}, "schema": "x.json",
        "privacy": privacy or {},
    })


def text_table(columns: dict[str, list[Any]]) -> pa.Table:
    return pa.table({k: pa.array([None if v is None else str(v) for v in vs], pa.string())
                     for k, vs in columns.items()})


def seeded_people(rows: int = 240, seed: int = 7) -> tuple[pa.Table, dict[str, list[str]]]:
    """One column per entity type, and the seeded personal values to look for in any output."""
    fake = Faker(LOCALES)
    fake.seed_instance(seed)
    us = Faker("en_US")
    us.seed_instance(seed)
    rnd = random.Random(seed)
    names = [fake.name() for _ in range(rows)]
    emails = [f"{fake.user_name()}{i}@{fake.domain_word()}.test" for i in range(rows)]
    phones = [fake.phone_number() for _ in range(rows)]
    notes = [
        NOTE_TEMPLATES[i % len(NOTE_TEMPLATES)].format(name=names[i], phone=phones[i], email=emails[i])
        for i in range(rows)
    ]
    columns = {
        "request_id": [str(40000000 + i) for i in range(rows)],
        "caller_name": names,
        "submitted_by": [fake.name() for _ in range(rows)],
        "contact": emails,
        "callback": phones,
        "ref_number": [us.ssn() for _ in range(rows)],
        "payment": [fake.credit_card_number() for _ in range(rows)],
        "account": [fake.iban() for _ in range(rows)],
        "source_host": [fake.ipv4() if i % 3 else fake.ipv6() for i in range(rows)],
        "location": [us.street_address() for _ in range(rows)],
        "zip": [us.zipcode() for _ in range(rows)],
        "dob": [fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat() for _ in range(rows)],
        "latitude": [f"{40.5 + rnd.random() * 0.4:.6f}" for _ in range(rows)],
        "longitude": [f"{-74.2 + rnd.random() * 0.5:.6f}" for _ in range(rows)],
        "plate": [fake.license_plate() for _ in range(rows)],
        "notes": notes,
    }
    seeds = {
        "names": names + columns["submitted_by"], "emails": emails, "phones": phones, "ssns": columns["ref_number"],
        "cards": columns["payment"], "ibans": columns["account"], "ips": columns["source_host"],
        "addresses": columns["location"],
    }
    return text_table(columns), seeds


def open_data(rows: int = 400, seed: int = 11) -> pa.Table:
    """Columns shaped like a city's 311 export: nothing here is personal data."""
    rnd = random.Random(seed)
    types = ["Noise - Residential", "Street Light Condition", "Blocked Driveway", "Illegal Parking",
             "Heat/Hot Water", "Water System", "Sanitation Condition", "Dirty Conditions"]
    agencies = ["Department of Transportation", "New York City Police Department",
                "Department of Sanitation", "Department of Environmental Protection"]
    return text_table({
        "Unique Key": [str(26000000 + rnd.randrange(9_000_000)) for _ in range(rows)],
        "Created Date": [f"2013-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} "
                         f"{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:00" for _ in range(rows)],
        "Closed Date": [f"{rnd.randint(1, 12):02d}/{rnd.randint(1, 28):02d}/2013 "
                        f"{rnd.randint(1, 12):02d}:{rnd.randint(0, 59):02d}:00 PM" for _ in range(rows)],
        "Agency Name": [rnd.choice(agencies) for _ in range(rows)],
        "Complaint Type": [rnd.choice(types) for _ in range(rows)],
        "Incident Zip": [f"{rnd.randint(10001, 11697)}" for _ in range(rows)],
        "Latitude": [f"{40.5 + rnd.random() * 0.4:.8f}" for _ in range(rows)],
        "Longitude": [f"{-74.2 + rnd.random() * 0.5:.8f}" for _ in range(rows)],
        "Amount": [f"{rnd.random() * 100000:.2f}" for _ in range(rows)],
        "Invoice": [f"INV-{rnd.randrange(100000, 999999)}" for _ in range(rows)],
        "Route": [rnd.choice(["M15", "Bx12", "Q58", "B44-SBS", "S79"]) for _ in range(rows)],
        "BBL": [str(rnd.randrange(1_000_000_000, 5_999_999_999)) for _ in range(rows)],
        "Council District": [str(rnd.randint(1, 51)) for _ in range(rows)],
        "Year": [str(rnd.randint(2010, 2020)) for _ in range(rows)],
    })
