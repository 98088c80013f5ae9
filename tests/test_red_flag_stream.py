"""The family run's red flags kept on disk and written from disk: the ``OCID`` group read back is the dict
the flags would have built in memory, and ``red-flags.json`` and the fingerprint's digest of it are, to the
byte, what the document held in memory gives, on the demo agency's data and the real OCP sample data."""

from __future__ import annotations

import gzip
import json
import random
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.publish import write_json
from opendata.settings import Settings
from procurement.flags_json import canonical_sha, write_document
from procurement.ocid_flags import OcidFlags
from procurement.prepare import prepare
from procurement.results import FILE
from procurement.settings import load_settings
from publishers.family import staged_red_flags
from publishers.job import ColumnRule, load_job
from publishers.red_flag_ids import public_ids
from publishers.runner import run_job
from publishers.unchanged import _canonical_sha

DEMO = Path(__file__).resolve().parent.parent / "datasets" / "procurement"
OCDS = Path(__file__).parent / "data" / "ocds"


def test_flags_on_disk_read_back_as_the_dict_they_would_make(tmp_path: Path) -> None:
    rng = random.Random(14)
    ocids = sorted(f"ocds-{rng.randrange(10**6)}-ñ{n}" for n in range(400))
    stored, kept = OcidFlags(tmp_path / "flags"), dict[str, dict[str, float]]()
    # Pass one's flags in ocid order (a process may raise several, and one code twice), then two more runs
    # in ocid order over a subset, as R024's and R058's come at the end, then a few out of order.
    flagged = [(o, c, rng.random()) for o in ocids if rng.random() < 0.4 for c in rng.sample(["R003", "R018"], 2)]
    flagged += [(o, "R003", 2.0) for o in ocids[::7]]
    later = [(o, code, rng.choice([0.5, -0.0, float("inf")])) for code in ("R024", "R058")
             for o in ocids if rng.random() < 0.3]
    flagged = sorted(flagged[: len(flagged) // 2], key=lambda f: f[0]) + later + [(ocids[3], "R030", 1.0)]
    for ocid, code, value in flagged:
        stored.add(ocid, code, value)
        kept.setdefault(ocid, {})[code] = value
    stored.close()
    assert len(list((tmp_path / "flags").iterdir())) == 4  # pass one, R024, R058, the one out of order
    assert list(stored.items()) == list(kept.items())  # order of ocids and of codes, and values
    assert list(stored.sorted_items()) == sorted(kept.items())
    assert list(stored) == list(kept) and len(stored) == len(kept) and bool(stored)
    assert stored[ocids[3]] == kept[ocids[3]]
    with pytest.raises(KeyError):
        stored["absent"]
    get = stored.lookup()
    assert [get(o) for o in ocids] == [kept.get(o) for o in ocids]  # in order, as the flattening asks
    assert get(ocids[0]) == kept.get(ocids[0])  # asked again from the start
    assert not OcidFlags(tmp_path / "none")


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("ocds")
    (folder / "sample.json").write_bytes(gzip.decompress((OCDS / "ocds-sample-data.json.gz").read_bytes()))
    for name in ("release-package_encoding-iso-8859-1.json", "record-package-1.json", "release-package_split.json"):
        shutil.copy(OCDS / name, folder / name)
    return [DEMO / "data" / "releases.jsonl", DEMO / "data" / "ocds-sample-data.json", *sorted(folder.iterdir())]


@pytest.mark.parametrize("party_ids", [None, "pseudonymize", "drop"])
def test_red_flags_written_from_disk_are_the_bytes_of_the_document_in_memory(
        sources: list[Path], tmp_path: Path, party_ids: str | None) -> None:
    job = load_job(DEMO / "contracts.yaml")
    if party_ids is not None:  # the organisation keys published as pseudonyms, or withheld
        columns = {**job.privacy.columns, "parties.party_id": ColumnRule.model_validate({"action": party_ids})}
        job = job.model_copy(update={"privacy": job.privacy.model_copy(update={"columns": columns})})
    prepared = prepare(sources, tmp_path / "ocds", load_settings(DEMO / "indicators.ini"))
    key = lambda: b"k" * 32  # noqa: E731
    document = public_ids(prepared.scores.as_cardinal(meta=True), job, key)
    assert len(document["OCID"]) > 50 and document["Tenderer"] and document["Meta"] and document["Transparency"]
    write_json(tmp_path / "in-memory.json", document)  # what the release held before

    files = staged_red_flags(prepared, job, key, tmp_path / FILE)
    assert dict(files) == {FILE: tmp_path / FILE}
    assert (tmp_path / FILE).read_bytes() == (tmp_path / "in-memory.json").read_bytes()
    assert files.extras_sha == _canonical_sha({FILE: document})
    assert json.loads((tmp_path / FILE).read_bytes()) == document


def test_the_writers_follow_json_dumps_on_odd_values(tmp_path: Path) -> None:
    document = {"OCID": {}, "Tenderer": {"ü \"x\"\n": {"R024": float("nan"), "R058": 1e-07}},
                "Meta": {"R024": {"q1": -0.0, "nested": [1, {"b": 2, "a": [3]}]}}, "Empty": {}, "n": 3}
    write_document(document, tmp_path / "streamed.json")
    write_json(tmp_path / "dumped.json", document)
    assert (tmp_path / "streamed.json").read_bytes() == (tmp_path / "dumped.json").read_bytes()
    assert canonical_sha({FILE: document}) == _canonical_sha({FILE: document})


def test_a_family_publishes_the_staged_file_and_a_second_run_is_unchanged(settings: Settings,
                                                                           tmp_path: Path) -> None:
    """Every table's release carries red-flags.json as the document in memory writes it; its fingerprint keeps
    the digest the in-memory document gives, so the same data run again publishes nothing new."""
    folder = tmp_path / "jobs" / "procurement"
    shutil.copytree(DEMO, folder)
    first = run_job(folder / "contracts.yaml", settings)
    assert first.ok and first.release is not None
    released = [settings.paths.releases / r.run.dataset / "1" for r in (first, *first.family)]
    assert len(released) == 9
    published = (released[0] / FILE).read_bytes()
    document = json.loads(published)
    write_json(tmp_path / "in-memory.json", document)
    assert published == (tmp_path / "in-memory.json").read_bytes() and len(document["OCID"]) > 50
    for folder_of in released:
        assert (folder_of / FILE).read_bytes() == published
        assert json.loads((folder_of / "fingerprint.json").read_bytes())["extras"] == _canonical_sha({FILE: document})
    again = run_job(folder / "contracts.yaml", settings)
    assert [r.run.state for r in (again, *again.family)] == ["unchanged"] * 9
    with TestClient(create_app(settings)) as client:
        answer = client.get("/api/v1/datasets/public-contracts-processes/releases/1/red-flags")
    assert answer.status_code == 200 and answer.json() == document
