"""A labelled corpus of short free texts, generated with Faker in many locales from a seed.

Each sentence comes from a template whose slots are filled with fake personal data; the character
spans of the slots are the gold labels. Negative slots (invoice numbers, amounts, dates, case numbers)
are the values Presidio misfires on in tabular open data: they must come out unlabelled.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from faker import Faker

LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "pl_PL", "sv_SE"]


@dataclass(frozen=True)
class Labelled:
    text: str
    spans: list[tuple[str, int, int]]  # (entity, start, end)


TEMPLATES = [
    "Caller {PERSON} reported a broken streetlight, call back on {PHONE_NUMBER}.",
    "{PERSON} called about loud music after midnight. Email {EMAIL_ADDRESS}",
    "Complaint filed by {PERSON} regarding illegal parking near {STREET_ADDRESS}.",
    "Spoke with {PERSON}; she will send photos to {EMAIL_ADDRESS} by Friday.",
    "Resident says the bins at {STREET_ADDRESS} were not collected, reach her at {PHONE_NUMBER}.",
    "Refund of {AMOUNT} for invoice {INVOICE} paid to card {CREDIT_CARD}.",
    "Please wire the deposit to {IBAN_CODE} and quote case {CASE}.",
    "Login attempts from {IP_ADDRESS} flagged on {DATE}.",
    "SSN on the form is {US_SSN}, applicant {PERSON}.",
    "Invoice {INVOICE} of {DATE} for {AMOUNT} is still open.",
    "Inspector {PERSON} visited {STREET_ADDRESS} on {DATE}.",
    "Contact {EMAIL_ADDRESS} or {PHONE_NUMBER} about permit {CASE}.",
    "Tree down blocking the road, crew dispatched at {TIME}.",
    "Water main break reported near the school, {AMOUNT} estimated damage.",
    "Meter {CASE} read {NUMBER} units on {DATE}.",
    "Mr. {LAST_NAME} asked for an update on case {CASE}.",
    "{PERSON} and {PERSON} both signed the petition.",
    "Card {CREDIT_CARD} was declined for the parking fine.",
    "Server {IP_ADDRESS} answered for {EMAIL_ADDRESS}.",
    "Forwarded to {PERSON} at {EMAIL_ADDRESS}, copy to {PERSON}.",
]
NEGATIVE = {"AMOUNT", "INVOICE", "CASE", "DATE", "TIME", "NUMBER"}
_SLOT = re.compile(r"\{([A-Z_]+)\}")


def fillers(fake: Faker, rnd: random.Random) -> dict[str, Callable[[], str]]:
    us = Faker("en_US")
    us.seed_instance(rnd.randrange(1 << 30))

    def plain_email() -> str:
        host = rnd.choice([fake.free_email_domain(), f"{fake.domain_word()}.test", fake.domain_name()])
        return f"{fake.user_name()}@{host}"

    return {
        "PERSON": lambda: re.sub(r"\s+", " ", fake.name()),
        "LAST_NAME": fake.last_name,
        "EMAIL_ADDRESS": plain_email,
        "PHONE_NUMBER": fake.phone_number,
        "STREET_ADDRESS": lambda: fake.street_address().replace("\n", ", "),
        "CREDIT_CARD": fake.credit_card_number,
        "IBAN_CODE": fake.iban,
        "IP_ADDRESS": lambda: fake.ipv4() if rnd.random() < 0.7 else fake.ipv6(),
        "US_SSN": us.ssn,
        "AMOUNT": lambda: f"{rnd.choice(['$', '€', ''])}{rnd.randint(1, 99999):,}.{rnd.randint(0, 99):02d}",
        "INVOICE": lambda: f"INV-{rnd.randrange(100000, 999999)}",
        "CASE": lambda: f"{rnd.choice(['SR', 'PR', 'C'])}-{rnd.randrange(10**6, 10**8)}",
        "DATE": lambda: fake.date_between("-3y").isoformat(),
        "TIME": lambda: f"{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}",
        "NUMBER": lambda: str(rnd.randint(100, 999999)),
    }


def generate(size: int = 1500, seed: int = 20240601, locales: list[str] | None = None) -> list[Labelled]:
    """``size`` labelled sentences, the same for the same seed."""
    rnd = random.Random(seed)
    out: list[Labelled] = []
    fakers = {}
    for locale in locales or LOCALES:
        fake = Faker(locale)
        fake.seed_instance(rnd.randrange(1 << 30))
        fakers[locale] = fillers(fake, rnd)
    names = list(fakers)
    for i in range(size):
        fill = fakers[names[i % len(names)]]
        template = TEMPLATES[rnd.randrange(len(TEMPLATES))]
        text, spans, last = "", [], 0
        for match in _SLOT.finditer(template):
            text += template[last:match.start()]
            slot = match.group(1)
            value = fill[slot]()
            entity = "PERSON" if slot == "LAST_NAME" else slot
            if slot not in NEGATIVE:
                spans.append((entity, len(text), len(text) + len(value)))
            text += value
            last = match.end()
        text += template[last:]
        out.append(Labelled(text, spans))
    return out
