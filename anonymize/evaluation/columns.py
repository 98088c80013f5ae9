"""Structured detection scored per column: one column per entity type and locale, named neutrally
(``col_3``) so only the values speak, and negative columns shaped like open data (amounts, invoice
numbers, dates, codes) that must not be taken for personal data."""

from __future__ import annotations

import random

import pyarrow as pa
from faker import Faker
from pydantic import BaseModel

from anonymize.detect_columns import detect_column
from anonymize.evaluation.corpus import LOCALES
from anonymize.recognizers import PERSONAL
from anonymize.text_engine import text_engine


class ColumnScore(BaseModel):
    entity: str
    columns: int
    detected: int
    recall: float


class ColumnEvaluation(BaseModel):
    scores: list[ColumnScore]
    negative_columns: int
    false_detections: list[str]


def _columns(fake: Faker, us: Faker, rnd: random.Random, rows: int) -> dict[str, list[str]]:
    return {
        "PERSON": [fake.name() for _ in range(rows)],
        "EMAIL_ADDRESS": [f"{fake.user_name()}@{fake.domain_word()}.test" for _ in range(rows)],
        "PHONE_NUMBER": [fake.phone_number() for _ in range(rows)],
        "US_SSN": [us.ssn() for _ in range(rows)],
        "CREDIT_CARD": [fake.credit_card_number() for _ in range(rows)],
        "IBAN_CODE": [fake.iban() for _ in range(rows)],
        "IP_ADDRESS": [fake.ipv4() if rnd.random() < 0.7 else fake.ipv6() for _ in range(rows)],
        "STREET_ADDRESS": [fake.street_address().replace("\n", ", ") for _ in range(rows)],
        "FREE_TEXT": [f"{fake.name()} called about {rnd.choice(['noise', 'trash', 'parking'])} at "
                      f"{fake.phone_number()}, please follow up" for _ in range(rows)],
    }


def _negatives(rnd: random.Random, rows: int) -> dict[str, list[str]]:
    return {
        "amount": [f"{rnd.random() * 100000:.2f}" for _ in range(rows)],
        "invoice": [f"INV-{rnd.randrange(100000, 999999)}" for _ in range(rows)],
        "created": [f"2013-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} {rnd.randint(0, 23):02d}:00:00"
                    for _ in range(rows)],
        "parcel": [str(rnd.randrange(1_000_000_000, 5_999_999_999)) for _ in range(rows)],
        "route": [rnd.choice(["M15", "Bx12", "Q58", "B44-SBS", "S79"]) for _ in range(rows)],
        "status": [rnd.choice(["Open", "Closed", "Pending", "Assigned"]) for _ in range(rows)],
        "agency": [rnd.choice(["Department of Transportation", "New York City Police Department",
                               "Department of Sanitation"]) for _ in range(rows)],
        "count": [str(rnd.randint(0, 5000)) for _ in range(rows)],
        "version": [f"{rnd.randint(1, 9)}.{rnd.randint(0, 20)}.{rnd.randint(0, 99)}" for _ in range(rows)],
    }


def evaluate_columns(model: str, seed: int = 11, rows: int = 200) -> ColumnEvaluation:
    rnd = random.Random(seed)
    us = Faker("en_US")
    us.seed_instance(seed)
    found: dict[str, list[bool]] = {}
    index = 0
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(rnd.randrange(1 << 30))
        for entity, values in _columns(fake, us, rnd, rows).items():
            detections = detect_column(f"col_{index}", pa.array(values), lambda: text_engine(model))
            entities = {d.entity for d in detections}
            hit = entity in entities if entity != "FREE_TEXT" else "FREE_TEXT" in entities and bool(entities & PERSONAL)
            found.setdefault(entity, []).append(hit)
            index += 1
    false: list[str] = []
    negatives = _negatives(rnd, rows)
    for name, values in negatives.items():
        personal = [d.entity for d in detect_column(name, pa.array(values), lambda: text_engine(model))
                    if d.entity in PERSONAL]
        false += [f"{name}: {e}" for e in personal]
    scores = [ColumnScore(entity=e, columns=len(v), detected=sum(v), recall=round(sum(v) / len(v), 3))
              for e, v in found.items()]
    return ColumnEvaluation(scores=scores, negative_columns=len(negatives), false_detections=false)
