"""Column names that mean an entity whatever the values look like: ``dob``, ``caller_name``, ``plate``.

Rules match the normalised name (``"Caller Name"``, ``callerName`` and ``caller-name`` all read
``caller_name``); an outside rule registers with :func:`register_name_rule` like the built-ins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NameRule:
    """A column name that means an entity, whatever the values look like."""

    entity: str
    pattern: str
    confidence: float = 0.8

    def matches(self, normalized_name: str) -> bool:
        if _DESCRIBES_NOT_HOLDS.search(normalized_name):
            return False
        return re.search(self.pattern, normalized_name) is not None


# "address_type", "email_verified", "phone_count" describe a value rather than hold it.
_DESCRIBES_NOT_HOLDS = re.compile(
    r"_(type|kind|category|class|status|flag|count|source|format|verified|provided|present|valid|known)$"
)


_PERSON_ROLES = (
    r"caller|complainant|patient|resident|applicant|owner|contact|employee|person|customer|client|driver"
    r"|victim|reporter|requester|requestor|citizen|tenant|landlord|member|student|user|submitter|witness"
    r"|suspect|officer|inspector|manager|author|recipient|payee|beneficiary|guardian|parent|spouse"
)
_NAME_RULES: list[NameRule] = [
    NameRule("EMAIL_ADDRESS", r"(^|_)e_?mail(_|$)|email_address"),
    NameRule("PHONE_NUMBER", r"(^|_)(phone|telephone|tel|mobile|cell|fax)(_|$)|phone_?number"),
    NameRule("US_SSN", r"(^|_)(ssn|social_security(_number)?|sin|nino|national_id)(_|$)"),
    NameRule("CREDIT_CARD", r"(^|_)(credit_?card|card_?number|cc_?number|pan)(_|$)"),
    NameRule("IBAN_CODE", r"(^|_)(iban|bank_?account|account_number)(_|$)"),
    NameRule("IP_ADDRESS", r"(^|_)(ip|ip_?address|ipv4|ipv6|client_ip|remote_addr)(_|$)"),
    NameRule("STREET_ADDRESS", r"(^|_)(?<!ip_)(?<!mac_)(?<!mail_)(?<!web_)(street_address|home_address|address|"
             r"incident_address|mailing_address|residence|addr)(_|$)", 0.6),
    NameRule("POSTCODE", r"(^|_)(zip|zip_?code|zipcode|postcode|postal_?code|post_code|plz)(_|$)"),
    NameRule("DATE_OF_BIRTH", r"(^|_)(dob|birth|birthday|birthdate|date_of_birth|birth_?date|birth_?year|"
             r"year_of_birth|born)(_|$)", 0.9),
    NameRule("COORDINATE", r"(^|_)(lat|latitude|lon|lng|long|longitude|x_coordinate|y_coordinate|"
             r"geo_?location|coordinates?)(_|$)"),
    NameRule("PERSON", r"(^|_)(first|last|full|given|middle|family|sur|fore|maiden|nick)_?name(_|$)"
             r"|(^|_)(surname|forename|firstname|lastname|fullname)(_|$)"
             r"|(^|_)(" + _PERSON_ROLES + r")_?(name|full_name)(_|$)", 0.9),
    NameRule("VEHICLE_PLATE", r"(^|_)(plate|license_?plate|licence_?plate|number_?plate|plate_?number|"
             r"vrm|registration_?(number|plate)|tag_?number)(_|$)", 0.85),
]


def register_name_rule(rule: NameRule) -> None:
    _NAME_RULES.append(rule)


def name_rules() -> list[NameRule]:
    return list(_NAME_RULES)


def normalize_name(name: str) -> str:
    """``"Caller Name"``, ``"callerName"`` and ``"caller-name"`` all become ``caller_name``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")
