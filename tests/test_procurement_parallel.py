"""A file scored in parts on several processes gives, to the byte, the result of one pass: results, Meta,
findings (with their line numbers) and key order, across cuts that fall between two lines of one process."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from procurement.parallel import score_file
from procurement.prepare import prepare
from procurement.settings import load_settings

DEMO = Path(__file__).resolve().parent.parent / "datasets" / "procurement"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's compiled releases, each line twice (so cuts fall inside a process), with bad lines."""
    staging = tmp_path_factory.mktemp("parallel")
    prepared = prepare([DEMO / "data" / "releases.jsonl", DEMO / "data" / "ocds-sample-data.json"], staging / "s")
    lines = prepared.compiled_path.read_bytes().splitlines()
    out = staging / "compiled.jsonl"
    with open(out, "wb") as handle:
        for number, line in enumerate(lines):
            handle.write(line + b"\n" + line + b"\n")
            if number % 97 == 5:
                handle.write(b'{"ocid": 3, "tender": {}}\n\n{not json\n[1, 2]\n')
    return out


@pytest.mark.parametrize("currency", [True, False], ids=["currency-set", "currency-found"])
def test_parts_give_the_result_of_one_pass(compiled: Path, tmp_path: Path, currency: bool) -> None:
    text = (DEMO / "indicators.ini").read_text()
    if not currency:
        text = text.replace("currency = USD\n", "")
    (tmp_path / "settings.ini").write_text(text)
    settings = load_settings(tmp_path / "settings.ini")
    one = score_file(compiled, settings, workers=1)
    expected = orjson.dumps(one.as_cardinal()), orjson.dumps(one.findings.as_dict())
    assert one.findings.counts["malformed-line"] and one.findings.counts["missing-ocid"]
    assert one.findings.counts["currency-not-main"] and one.results["Tenderer"] and one.transparency
    for workers in (2, 3, 5):
        parts = score_file(compiled, settings, workers=workers, min_part_bytes=1)
        assert (orjson.dumps(parts.as_cardinal()), orjson.dumps(parts.findings.as_dict())) == expected
        assert (parts.processes, parts.excluded, parts.currency) == (one.processes, one.excluded, one.currency)


def test_a_small_file_is_scored_in_one_pass(compiled: Path) -> None:
    settings = load_settings(DEMO / "indicators.ini")
    scores = score_file(compiled, settings, workers=4)  # far under MIN_PART_BYTES: no worker started
    assert json.dumps(scores.as_cardinal()) == json.dumps(score_file(compiled, settings, workers=1).as_cardinal())
