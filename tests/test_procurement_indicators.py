"""Cardinal's red-flag indicators: every worked example of the reference (input and Cardinal's output, as its
indicator page gives them), then cases built from the definitions, the settings and bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from opendata.cli import main
from procurement.indicators import score
from procurement.quartiles import quantile
from procurement.settings import CODES, SettingsError, load_settings, parse_settings

CARDINAL = Path(__file__).parent / "data" / "cardinal"
DEMO = re.compile(r"\$ ocdscardinal indicators --settings docs/(\S+) --no-meta docs/(\S+)\n(\{.*\})\n")


def worked_examples() -> list[tuple[str, str, str, str]]:
    cases = []
    for page in sorted((CARDINAL / "indicators").glob("*.md")):
        found = DEMO.search(page.read_text(encoding="utf-8"))
        assert found, f"{page.name} has no demonstration"
        cases.append((page.stem, found.group(1), found.group(2), found.group(3)))
    return cases


@pytest.mark.parametrize(("code", "settings", "data", "expected"), worked_examples(), ids=lambda v: str(v)[:8])
def test_each_worked_example_gives_cardinals_output(code, settings, data, expected, capsys) -> None:
    assert main(["procurement", "indicators", str(CARDINAL / data), "--settings", str(CARDINAL / settings),
                 "--no-meta"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(expected)


def test_all_eleven_codes_have_a_worked_example() -> None:
    assert sorted(f"R{c}" for c, *_ in worked_examples()) == sorted(CODES)


def releases(*items: dict) -> list[dict]:
    return list(items)


def bid(tenderer: str, amount: float | None = None, status: str = "valid", currency: str = "USD", **extra) -> dict:
    found: dict = {"status": status, "tenderers": [{"id": tenderer}], **extra}
    if amount is not None:
        found["value"] = {"amount": amount, "currency": currency}
    return found


def process(ocid: str, bids: list[dict], winner: str | None = None, **extra) -> dict:
    found: dict = {"ocid": ocid, "bids": {"details": bids}, **extra}
    if winner is not None:
        found["awards"] = [{"status": "active", "suppliers": [{"id": winner}]}]
    return found


def test_r003_threshold_per_method_details_and_method_filter() -> None:
    def period(ocid: str, days: int, **tender) -> dict:
        return {"ocid": ocid, "tender": {"tenderPeriod": {"startDate": "2024-01-01T00:00:00Z",
                                                          "endDate": f"2024-01-{1 + days:02d}T00:00:00Z"}, **tender}}
    data = [period("a", 14), period("b", 15), period("c", 9, procurementMethodDetails="Cotización"),
            period("d", 5, procurementMethod="direct")]
    assert set(score(data, parse_settings("[R003]")).results["OCID"]) == {"a", "c", "d"}
    tuned = parse_settings("[R003]\nthreshold = 10 ; shorter\nprocurement_methods = open\n"
                           "[R003.procurement_method_details]\nCotización = 7\n")
    assert score(data + [period("e", 8, procurementMethod="open")], tuned).results["OCID"] == {
        "e": {"R003": 1.0}}


def test_r018_counts_bids_when_number_of_tenderers_is_missing_and_respects_methods() -> None:
    data = [process("one", [bid("A"), bid("A")], tender={"procurementMethod": "open"}),
            process("two", [bid("A"), bid("B")], tender={"procurementMethod": "open"}),
            process("direct", [bid("A")], tender={"procurementMethod": "direct"})]
    assert score(data, parse_settings("[R018]")).results["OCID"] == {"one": {"R018": 1.0}}
    wide = parse_settings("[R018]\nprocurement_methods = open|direct")
    assert set(score(data, wide).results["OCID"]) == {"one", "direct"}


def test_r028_and_r036_skip_predetermined_prices() -> None:
    data = [process("p", [bid("A", 5), bid("B", 5)], tender={"procurementMethodDetails": "Sorteo"})]
    assert score(data, parse_settings("[R028]")).results["OCID"] == {"p": {"R028": 1.0}}
    assert score(data, parse_settings("no_price_comparison_procurement_methods = Sorteo\n[R028]")).results[
        "OCID"] == {}
    assert score(data, parse_settings("price_comparison_procurement_methods = Subasta\n[R028]")).results[
        "OCID"] == {}
    lowest_out = [process("q", [bid("A", 1, "disqualified"), bid("B", 2)], winner="B")]
    assert score(lowest_out, parse_settings("[R036]")).results["OCID"] == {"q": {"R036": 1.0}}
    tie = [process("t", [bid("A", 2, "disqualified"), bid("B", 2)], winner="B")]
    assert score(tie, parse_settings("[R036]")).results["OCID"] == {}


def test_r030_needs_the_late_bidder_to_win() -> None:
    tender = {"tenderPeriod": {"endDate": "2024-03-15T00:00:00+00:00"}}
    late_loser = process("x", [bid("L", date="2024-04-01T00:00:00Z"), bid("W", date="2024-03-01T00:00:00Z")],
                         winner="W", tender=tender)
    assert score([late_loser], parse_settings("[R030]")).results["OCID"] == {}


def test_r035_threshold_and_pending_awards() -> None:
    data = [process("p", [bid("W"), bid("A", status="disqualified"), bid("B", status="disqualified")], winner="W")]
    assert score(data, parse_settings("[R035]")).results["OCID"] == {"p": {"R035": 2.0}}
    assert score(data, parse_settings("[R035]\nthreshold = 3")).results["OCID"] == {}
    pending = [{**data[0], "awards": data[0]["awards"] + [{"status": "pending"}]}]
    assert score(pending, parse_settings("[R035]")).results["OCID"] == {}


def test_r024_r058_thresholds_replace_the_fences_and_meta_reports_them() -> None:
    data = [process(str(i), [bid("W", 100), bid("L", 100 + i)], winner="W") for i in range(1, 9)]
    scores = score(data, parse_settings("[R024]\nthreshold = 0.02\n[R058]\nthreshold = 0.08"))
    assert {k: v for k, v in scores.results["OCID"].items()} == {
        "1": {"R024": 0.01}, "2": {"R024": 0.02}, "8": {"R058": 0.08}}
    assert scores.meta == {}
    fenced = score(data, parse_settings("[R024]"))
    assert set(fenced.meta["R024"]) == {"q1", "q3", "lower_fence"}


def test_r038_and_r048_minimums_come_from_settings() -> None:
    data = [process(str(i), [bid(f"T{i}"), bid("D", status="disqualified")], buyer={"id": "B"}) for i in range(3)]
    assert "D" in score(data, parse_settings("[R038]")).results["Tenderer"]
    assert score(data, parse_settings("[R038]\nminimum_submitted_bids = 4")).results["Tenderer"] == {}
    awarded = [{"ocid": str(i), "awards": [{"status": "active", "suppliers": [{"id": "S"}],
                                            "items": [{"classification": {"id": f"{10 + i}000000"}}]}]}
               for i in range(4)]
    assert score(awarded, parse_settings("[R048]\nminimum_contracting_processes = 1\nthreshold = 4")).results[
        "Tenderer"] == {"S": {"R048": 4.0}}
    assert score(awarded, parse_settings("[R048]\ndigits = 1\nthreshold = 2\n"
                                         "minimum_contracting_processes = 1")).results["Tenderer"] == {}


def test_global_exclusions_cancelled_and_method_details() -> None:
    data = [{"ocid": "c", "tender": {"status": "cancelled", "numberOfTenderers": 1, "procurementMethod": "open"}},
            {"ocid": "r", "tender": {"procurementMethodDetails": "Random Selection", "numberOfTenderers": 1,
                                     "procurementMethod": "open"}},
            {"ocid": "k", "tender": {"numberOfTenderers": 1, "procurementMethod": "open"}}]
    scores = score(data, parse_settings("[exclusions]\nprocurement_method_details = Random Selection|Sorteo\n"
                                        "[R018]"))
    assert scores.results["OCID"] == {"k": {"R018": 1.0}}
    assert scores.excluded == {"cancelled": 1, "procurement-method-details": 1}


def test_mixed_currencies_use_the_main_one_and_say_so() -> None:
    data = [process("usd", [bid("A", 5), bid("B", 5)]), process("eur", [bid("A", 5, currency="EUR"),
                                                                         bid("B", 5, currency="EUR")])]
    scores = score(data, parse_settings("[R028]"))
    assert set(scores.results["OCID"]) == {"usd"}
    assert scores.findings.counts["currency-not-main"] == 1
    assert "eur" in scores.findings.kept[0].message and "main currency USD" in scores.findings.kept[0].message
    chosen = score(data, parse_settings("currency = EUR\n[R028]"))
    assert set(chosen.results["OCID"]) == {"eur"}


def test_bad_lines_are_findings_and_nothing_else_is_lost(tmp_path, capsys) -> None:
    lines = [json.dumps(process("ok", [bid("A", 5), bid("B", 5)])), "{not json", "[1, 2]",
             json.dumps({"tender": {"numberOfTenderers": 1}}), "", json.dumps(process("ok2", [bid("C", 7),
                                                                                              bid("D", 7)]))]
    path = tmp_path / "compiled.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["procurement", "indicators", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["OCID"]) == {"ok", "ok2"}
    assert result["findings"]["counts"] == {"malformed-line": 2, "missing-ocid": 1}
    assert [f.get("line") for f in result["findings"]["first"]] == [2, 3, 4]
    assert "Meta" in result
    assert main(["procurement", "indicators", str(path)]) == 0
    captured = capsys.readouterr()
    assert "malformed-line: line 2 is not JSON" in captured.err and "missing-ocid: line 4" in captured.err


def test_settings_errors_are_clear(tmp_path, capsys) -> None:
    with pytest.raises(SettingsError, match=r"\[R024\] threshold must be a decimal number"):
        parse_settings("[R024]\nthreshold = low")
    with pytest.raises(SettingsError, match="unknown section"):
        parse_settings("[R999]")
    with pytest.raises(SettingsError, match="unknown property 'treshold'"):
        parse_settings("[R038]\ntreshold = 1")
    assert load_settings(None).enabled == frozenset(CODES)
    assert main(["procurement", "indicators", str(tmp_path / "none.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_quantiles_are_type_8() -> None:
    assert quantile([1, 99, 99, 99, 99], 0.25) == pytest.approx(66.3333, abs=1e-4)
    assert quantile([1, 1, 1, 1, 99], 0.75) == pytest.approx(33.6667, abs=1e-4)
    assert quantile([3.0], 0.75) == 3.0


def test_proact_indicators_run_only_when_asked_and_each_flags_its_case() -> None:
    deadline = "2024-03-01T00:00:00Z"
    data = [
        {"ocid": "direct", "tender": {"procurementMethod": "direct"}},
        {"ocid": "slow", "tender": {"procurementMethod": "open", "tenderPeriod": {"startDate": "2024-02-01T00:00:00Z",
                                                                                 "endDate": deadline}},
         "awards": [{"status": "active", "date": "2024-08-01T00:00:00Z"}]},
        {"ocid": "overrun", "tender": {"procurementMethod": "open", "tenderPeriod": {
            "startDate": "2024-02-01T00:00:00Z", "endDate": deadline}},
         "awards": [{"id": "a", "status": "active", "date": "2024-03-20T00:00:00Z",
                     "value": {"amount": 100, "currency": "USD"}}],
         "contracts": [{"awardID": "a", "value": {"amount": 150, "currency": "USD"},
                        "period": {"endDate": "2024-06-01T00:00:00Z"},
                        "implementation": {"milestones": [{"dueDate": "2024-05-01T00:00:00Z",
                                                           "dateMet": "2024-07-01T00:00:00Z"}]}}]},
        {"ocid": "no-call", "tender": {"procurementMethod": "open", "tenderPeriod": {"endDate": deadline}}},
    ]
    assert score(data).results["OCID"] == {}  # Cardinal's defaults only
    flags = score(data, parse_settings("[P001]\n[P002]\n[P004]\n[P005]\n[P006]")).results["OCID"]
    assert flags["direct"] == {"P001": 1.0}
    assert flags["slow"] == {"P002": 153.0}
    assert flags["overrun"] == {"P004": 0.5, "P005": 61.0}
    assert flags["no-call"] == {"P006": 1.0}


def test_p003_and_the_transparency_score_per_buyer() -> None:
    def awarded(n: int, supplier: str, amount: float) -> dict:
        return {"ocid": str(n), "buyer": {"id": "B"}, "tender": {"title": "t"},
                "awards": [{"status": "active", "suppliers": [{"id": supplier}],
                            "value": {"amount": amount, "currency": "USD"}}]}
    data = [awarded(i, "FAV" if i < 4 else f"S{i}", 100) for i in range(6)]
    scores = score(data, parse_settings("[P003]\nthreshold = 0.6\n[transparency]"))
    assert scores.results["Buyer"] == {"B": {"P003": pytest.approx(4 / 6)}}
    assert scores.results["Tenderer"] == {"FAV": {"P003": pytest.approx(4 / 6)}}
    transparency = scores.as_cardinal(meta=False)["Transparency"]["B"]
    assert transparency["processes"] == 6 and transparency["fields"]["tender title"] == 1.0
    assert transparency["fields"]["contract value"] == 0.0
    assert 0 < transparency["score"] < 1
    assert score(data, parse_settings("[P003]\nminimum_contracting_processes = 7")).results["Buyer"] == {}
