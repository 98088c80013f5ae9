"""OCDS in each publication shape and encoding, merged per ocid (ocdsmerge) with findings for what cannot be."""

from __future__ import annotations

import json
from pathlib import Path

from procurement.compile import compile_all
from procurement.findings import Findings
from procurement.reader import read_file

OCDS = Path(__file__).parent / "data" / "ocds"


def release(ocid: str, date: str, **fields: object) -> dict:
    return {"ocid": ocid, "id": f"{ocid}-{date}", "date": date, "tag": ["tender"], "initiationType": "tender",
            **fields}


def read(path: Path) -> tuple[list, Findings]:
    findings = Findings()
    return list(read_file(path, findings)), findings


def test_every_shape_gives_the_same_releases(tmp_path: Path) -> None:
    one, two = release("a", "2024-01-01T00:00:00Z"), release("a", "2024-02-01T00:00:00Z", tag=["award"])
    shapes = {
        "package.json": json.dumps({"releases": [one, two]}, indent=2),
        "lines.jsonl": json.dumps(one) + "\n" + json.dumps(two) + "\n",
        "concatenated.json": json.dumps(one, indent=1) + json.dumps(two, indent=1),
        "same-line.json": json.dumps(one) + json.dumps(two),
        "array.json": json.dumps([one, two]),
        "records.json": json.dumps({"records": [{"ocid": "a", "releases": [one, two]}]}),
    }
    for name, text in shapes.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        found, findings = read(tmp_path / name)
        assert [i.release["id"] for i in found] == [one["id"], two["id"]], name
        assert len(findings) == 0, name


def test_a_record_with_only_its_compiled_release_and_linked_releases(tmp_path: Path) -> None:
    compiled = {"records": [{"ocid": "b", "releases": [{"url": "https://x.example/r.json"}],
                             "compiledRelease": {"id": "b-c", "date": "2024-01-01T00:00:00Z", "tag": ["compiled"]}},
                            {"ocid": "c", "releases": [{"url": "https://x.example/c.json"}]}]}
    (tmp_path / "r.json").write_text(json.dumps(compiled), encoding="utf-8")
    found, findings = read(tmp_path / "r.json")
    assert [(i.ocid, i.compiled) for i in found] == [("b", True)]
    assert findings.counts["not-ocds"] == 1 and "only linked releases" in findings.kept[0].message


def test_iso_8859_1_is_read_and_releases_merge_per_ocid(tmp_path: Path) -> None:
    found, findings = read(OCDS / "release-package_encoding-iso-8859-1.json")
    assert found and len(findings) == 0
    merged = list(compile_all(found, findings, tmp_path / "merge"))
    assert len(merged) == len({i.ocid for i in found})
    assert merged[0]["tag"] == ["compiled"]
    assert any("SECRETARÍA" in json.dumps(m, ensure_ascii=False) for m in merged)


def test_unmergeable_releases_and_missing_ocid_are_findings(tmp_path: Path) -> None:
    lines = [json.dumps(release("ok", "2024-01-01T00:00:00Z")), json.dumps({"id": "x", "date": "2024"}),
             json.dumps({"ocid": "nodate", "id": "1", "tag": ["tender"]}),
             json.dumps(release("nodate", "2024-03-01T00:00:00Z")), "not json at all"]
    (tmp_path / "bad.jsonl").write_text("\n".join(lines), encoding="utf-8")
    found, findings = read(tmp_path / "bad.jsonl")
    merged = list(compile_all(found, findings, tmp_path / "merge"))
    assert [m["ocid"] for m in merged] == ["ok"]
    assert findings.counts == {"missing-ocid": 1, "malformed-line": 1, "merge-error": 1}
    assert all("2024" not in f.message or "ocid" in f.message for f in findings.kept)


def test_json_lines_keep_their_line_numbers_encodings_and_arrays(tmp_path: Path) -> None:
    """JSON lines through the one JSON lines reader: a line may hold an array of releases, a line of
    ISO-8859-1 bytes is decoded as such, and what is not JSON or not OCDS is a finding with its line."""
    first, second = release("a", "2024-01-01T00:00:00Z"), release("b", "2024-01-01T00:00:00Z")
    third = release("c", "2024-01-01T00:00:00Z", title="Secretaría")
    data = b"\n".join([json.dumps(first).encode(), json.dumps([second]).encode(), b"", b"42", b"{not json",
                       json.dumps(third, ensure_ascii=False).encode("iso-8859-1")]) + b"\n"
    (tmp_path / "mixed.jsonl").write_bytes(data)
    found, findings = read(tmp_path / "mixed.jsonl")
    assert [i.ocid for i in found] == ["a", "b", "c"]
    assert found[2].release["title"] == "Secretaría"
    assert findings.counts == {"not-ocds": 1, "malformed-line": 1}
    assert [f.line for f in findings.kept if f.type == "malformed-line"] == [5]
    assert "mixed.jsonl: line 5 is not JSON" in findings.kept[-1].message


def test_the_merge_sorts_in_runs_and_keeps_the_order_read(tmp_path: Path, monkeypatch) -> None:
    """Keys sorted in runs smaller than the input and merged from disk: per ocid in ocid order, each ocid's
    releases in the order read, however the runs cut them."""
    import procurement.compile as compile_module
    from procurement.compile import group
    from procurement.reader import Item

    monkeypatch.setattr(compile_module, "RUN_ROWS", 3)
    items = [Item(ocid=f"o{n % 4}", release={"n": n}) for n in range(10)]
    grouped = [(ocid, [i.release["n"] for i in found]) for ocid, found in group(items, tmp_path / "merge")]
    assert grouped == [("o0", [0, 4, 8]), ("o1", [1, 5, 9]), ("o2", [2, 6]), ("o3", [3, 7])]
    assert not list((tmp_path / "merge").glob("run-*"))
