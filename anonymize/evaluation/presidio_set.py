"""presidio-evaluator's public synthetic set (``data/synth_dataset_v2.json`` in its sdist), and its scorer.

The scorer runs in presidio-evaluator's own venv: we hand it one row per token (sentence, token, gold
label, predicted label, offset) and it returns its precision, recall and F2.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from anonymize.evaluation.corpus import Labelled
from anonymize.evaluation.scoring import SCORED, Spans, token_rows
from anonymize.evaluation.venvs import download_sdist, ensure_venv, run_json

PACKAGE = "presidio-evaluator"
REQUIREMENT = "presidio-evaluator==0.3.2"
DATA_FILE = "data/synth_dataset_v2.json"


def load(cache: Path) -> list[Labelled]:
    target = cache / "presidio-evaluator" / "synth_dataset_v2.json"
    if not target.is_file():
        sdist = download_sdist(cache, PACKAGE)
        with tarfile.open(sdist) as archive:
            member = next(m for m in archive.getmembers() if m.name.endswith(DATA_FILE))
            handle = archive.extractfile(member)
            assert handle is not None
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(handle.read())
    records = json.loads(target.read_text(encoding="utf-8"))
    return [
        Labelled(r["full_text"], [(s["entity_type"], s["start_position"], s["end_position"]) for s in r["spans"]])
        for r in records
    ]


SCORER = """
import json, sys
import pandas as pd
from presidio_evaluator.evaluation import TokenEvaluator
payload = json.load(sys.stdin)
out = {}
for system, rows in payload["systems"].items():
    df = pd.DataFrame(rows, columns=["sentence_id", "token", "annotation", "prediction", "start_indices"])
    result = TokenEvaluator(entities_to_keep=payload["entities"]).calculate_score_on_df(df, beta=2.0)
    out[system] = {"precision": result.pii_precision, "recall": result.pii_recall, "f2": result.pii_f,
                   "per_type": {k: {"precision": v.precision, "recall": v.recall, "f2": v.f_beta}
                                for k, v in result.per_type.items()}}
print(json.dumps(out, default=float))
"""


def official_scores(cache: Path, texts: Sequence[str], gold: Sequence[Spans],
                    systems: Mapping[str, Sequence[Spans]]) -> dict[str, Any]:
    """presidio-evaluator's TokenEvaluator (F2) on each system's predictions."""
    python = ensure_venv(cache, "presidio-evaluator", REQUIREMENT)
    payload = {"entities": list(SCORED), "systems": {
        name: token_rows(texts, gold, predicted) for name, predicted in systems.items()
    }}
    result: dict[str, Any] = run_json(python, SCORER, payload)
    return result
