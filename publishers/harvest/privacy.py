"""The privacy policy proposed for a harvested job, from the platform's own detection on a sample.

:func:`propose_policy` is the one place harvest asks "what personal data is in this sample": it runs
:func:`anonymize.detect_columns.detect_column` on every column and proposes an action per entity found.
The proposal always asks for approval, so nothing harvested publishes before a privacy officer looks.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from anonymize.detect_columns import detect_column, sample_rows
from anonymize.recognizers import PERSONAL
from anonymize.text_engine import TextEngine, text_engine
from opendata.settings import Settings

#: Entity -> proposed rule, for values that are the entity; free text holding one is redacted.
PROPOSALS: dict[str, Any] = {
    "EMAIL_ADDRESS": "drop", "PHONE_NUMBER": "drop", "US_SSN": "drop", "CREDIT_CARD": "drop",
    "IBAN_CODE": "drop", "IP_ADDRESS": "drop", "STREET_ADDRESS": "drop", "VEHICLE_PLATE": "drop",
    "PERSON": "pseudonymize", "DATE_OF_BIRTH": "drop",
    "COORDINATE": {"generalize": "round", "digits": 3}, "POSTCODE": {"generalize": "prefix", "length": 3},
}


def propose_policy(sample: pa.Table, settings: Settings) -> dict[str, Any]:
    """A ``privacy`` block for the job file: a rule for every column of ``sample`` (keep where nothing
    was found), ``requires_approval: true``."""

    def engine() -> TextEngine:
        return text_engine(settings.spacy_model)

    rows = sample_rows(sample, settings.detection_sample_rows)
    columns: dict[str, Any] = {}
    for name in rows.column_names:
        detections = detect_column(name, rows.column(name), engine)
        if any(d.source == "text" and d.entity in PERSONAL for d in detections):
            columns[name] = "redact"
            continue
        personal = [d for d in detections if d.entity in PERSONAL]
        found = personal or [d for d in detections if d.entity in PROPOSALS]
        columns[name] = PROPOSALS.get(max(found, key=lambda d: d.confidence).entity, "drop") if found else "keep"
    return {"columns": columns, "requires_approval": True}
