"""Precision on real public text: how much of it redaction alters when it holds no personal data.

* **NWS alerts**: the 163 summaries of the National Weather Service CAP/Atom feed snapshot in the weather
  demo (``datasets/weather/data/alerts.csv``, a US Government work): none names a person, so every
  altered summary is a false finding. The AMBER alert of the same source is scored apart: each of its
  personal items (names, dates of birth, the street address, the plate) must be gone.
* **NYC 311 resolution notes**: the agency's notes of the 311 demo (NYC Open Data rows): boilerplate
  about inspections and letters, no personal data.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pydantic import BaseModel, Field

from anonymize.text_engine import text_engine

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "datasets" / "weather" / "data" / "alerts.csv"
REQUESTS = ROOT / "datasets" / "city" / "data" / "requests.csv"
#: The AMBER alert's personal data, each of which redaction must remove.
AMBER_PERSONAL = ("KHAYRI", "DOE JR", "DOE SR", "06/24/01", "04/18/71", "5721 DOE ST", "4XXX000")


class AlteredShare(BaseModel):
    corpus: str
    texts: int
    altered: int
    share: float
    examples: list[str] = Field(default_factory=list, description="a few altered texts, after redaction")


class PublicTextEvaluation(BaseModel):
    nws_alerts: AlteredShare
    amber_items_left: list[str] = Field(description="AMBER alert items that survived redaction (goal: none)")
    amber_redacted: str
    nyc311_notes: AlteredShare
    nyc311_rows: AlteredShare


def _altered(name: str, texts: list[str], redacted: list[str]) -> AlteredShare:
    changed = [after for before, after in zip(texts, redacted, strict=True) if before != after]
    return AlteredShare(corpus=name, texts=len(texts), altered=len(changed),
                        share=round(len(changed) / len(texts), 4) if texts else 0.0, examples=changed[:3])


def evaluate_public_text(model: str) -> PublicTextEvaluation:
    engine = text_engine(model)
    with ALERTS.open(encoding="utf-8", newline="") as handle:
        alerts = list(csv.DictReader(handle))
    summaries = [a["summary"] for a in alerts if a["event"] != "Child Abduction" and a["summary"]]
    amber = next(a["summary"] for a in alerts if a["event"] == "Child Abduction")
    redacted = engine.redact([*summaries, amber])
    amber_after = redacted[-1]
    with REQUESTS.open(encoding="utf-8", newline="") as handle:
        notes = [r["resolution_description"] for r in csv.DictReader(handle) if r["resolution_description"]]
    distinct = sorted(set(notes))
    after = dict(zip(distinct, engine.redact(distinct), strict=True))
    return PublicTextEvaluation(
        nws_alerts=_altered("NWS CAP alert summaries (163)", summaries, redacted[:-1]),
        amber_items_left=[item for item in AMBER_PERSONAL if item in amber_after],
        amber_redacted=amber_after,
        nyc311_notes=_altered("NYC 311 resolution notes, distinct", distinct, [after[t] for t in distinct]),
        nyc311_rows=_altered("NYC 311 resolution notes, rows", notes, [after[t] for t in notes]),
    )


def markdown(result: PublicTextEvaluation) -> list[str]:
    rows = [result.nws_alerts, result.nyc311_notes, result.nyc311_rows]
    return [
        "**Public text without personal data**: share altered by `redact` (default entities; goal at most 2%)", "",
        "| corpus | texts | altered | share |", "|---|---|---|---|",
        *[f"| {r.corpus} | {r.texts} | {r.altered} | {r.share:.1%} |" for r in rows],
        "", f"AMBER alert: {len(AMBER_PERSONAL) - len(result.amber_items_left)} of {len(AMBER_PERSONAL)} personal "
        f"items removed{'' if not result.amber_items_left else ' (left: ' + ', '.join(result.amber_items_left) + ')'}.",
        "",
    ]
