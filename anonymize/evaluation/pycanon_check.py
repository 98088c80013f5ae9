"""Our k-anonymity and l-diversity figures against pycanon's, on the same tables.

pycanon pins old numpy and pandas, so it runs in a venv of its own (:mod:`.venvs`). Tables go over as
JSON records; nulls become the text ``<null>`` on both sides, since pandas' groupby would drop them while
we count a null as a value.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import BaseModel

from anonymize.evaluation.venvs import ensure_venv, run_json
from anonymize.generalize import generalize
from anonymize.risk import measure

REQUIREMENT = "pycanon==1.3.6"
SCRIPT = """
import json, sys
import pandas as pd
from pycanon import anonymity
out = []
for case in json.load(sys.stdin):
    df = pd.DataFrame(case["rows"])
    k = anonymity.k_anonymity(df, case["qi"])
    l = anonymity.l_diversity(df, case["qi"], case["sensitive"]) if case["sensitive"] else None
    out.append({"k": int(k), "l": None if l is None else int(l)})
print(json.dumps(out))
"""


class CrossCheck(BaseModel):
    table: str
    rows: int
    ours_k: int
    pycanon_k: int
    ours_l: int | None
    pycanon_l: int | None

    @property
    def agrees(self) -> bool:
        return self.ours_k == self.pycanon_k and self.ours_l == self.pycanon_l


def tables(seed: int = 7, rows: int = 3000) -> list[tuple[str, pa.Table, list[str], list[str]]]:
    """Raw and generalised tables of patients: age, postcode, sex as quasi-identifiers, diagnosis sensitive."""
    rnd = random.Random(seed)
    diagnoses = ["flu", "asthma", "diabetes", "fracture", "migraine", "covid-19", "hypertension"]
    raw = pa.table({
        "age": pa.array([str(rnd.randint(18, 95)) for _ in range(rows)]),
        "postcode": pa.array([f"{rnd.randint(10001, 10299)}" for _ in range(rows)]),
        "sex": pa.array([rnd.choice(["F", "M", None]) for _ in range(rows)]),
        "diagnosis": pa.array([rnd.choice(diagnoses) for _ in range(rows)]),
    })
    coarse = pa.table({
        "age": generalize(raw.column("age").combine_chunks(), {"method": "bins", "width": 20}),
        "postcode": generalize(raw.column("postcode").combine_chunks(), {"method": "prefix", "length": 3}),
        "sex": raw.column("sex"),
        "diagnosis": raw.column("diagnosis"),
    })
    qi, sensitive = ["age", "postcode", "sex"], ["diagnosis"]
    return [("patients raw", raw, qi, sensitive), ("patients generalised", coarse, qi, sensitive),
            ("patients generalised, age and sex only", coarse, ["age", "sex"], sensitive)]


def cross_check(cache: Path, seed: int = 7) -> list[CrossCheck]:
    python = ensure_venv(cache, "pycanon", REQUIREMENT)
    cases = tables(seed)
    payload: list[dict[str, Any]] = []
    for _, table, qi, sensitive in cases:
        rows = [{k: ("<null>" if v is None else v) for k, v in row.items()} for row in table.to_pylist()]
        payload.append({"rows": rows, "qi": qi, "sensitive": sensitive})
    theirs = run_json(python, SCRIPT, payload)
    checks: list[CrossCheck] = []
    for (name, table, qi, sensitive), other in zip(cases, theirs, strict=True):
        ours = measure(table, qi, sensitive)
        checks.append(CrossCheck(table=name, rows=table.num_rows, ours_k=ours.smallest_class, pycanon_k=other["k"],
                                 ours_l=ours.l_diversity, pycanon_l=other["l"]))
    return checks
