"""The demo procurement agency: its generator is deterministic, its job loads, its policy names real columns
and covers every contact person, and its data raises every red flag."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from procurement.indicators.proact import PROACT
from procurement.prepare import prepare
from procurement.settings import CODES, load_settings
from publishers.family import check_policy, table_job
from publishers.job import OcdsSource, load_job

FOLDER = Path(__file__).resolve().parent.parent / "datasets" / "procurement"


def test_the_generator_rewrites_the_committed_data(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("generate_ocds", FOLDER / "generate_ocds.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import sys

    sys.argv = ["generate_ocds.py", "--out", str(tmp_path / "releases.jsonl")]
    module.main()
    made = hashlib.sha256((tmp_path / "releases.jsonl").read_bytes()).hexdigest()
    assert made == hashlib.sha256((FOLDER / "data" / "releases.jsonl").read_bytes()).hexdigest()


def test_the_job_publishes_no_contact_person() -> None:
    job = load_job(FOLDER / "contracts.yaml")
    assert isinstance(job.source, OcdsSource) and len(job.description) > 300
    check_policy(job)
    parties = table_job(job, "parties")
    published = {f["name"] for f in parties.table_schema["fields"]}
    assert not published & {"contact_point_name", "contact_point_email", "contact_point_telephone",
                            "contact_point_fax_number", "street_address"}
    assert {"party_id", "name", "identifier_id"} <= published


def test_the_demo_raises_every_red_flag(tmp_path: Path) -> None:
    job = load_job(FOLDER / "contracts.yaml")
    assert isinstance(job.source, OcdsSource) and job.source.indicators
    prepared = prepare([job.resolve(p) for p in job.source.paths], tmp_path,
                       load_settings(job.resolve(job.source.indicators)))
    assert prepared.processes > 300
    raised = {code for group in prepared.scores.results.values() for found in group.values() for code in found}
    assert raised == set(CODES) | set(PROACT)
    assert 0 < min(t["score"] for t in prepared.scores.transparency.values()) < 1
    assert prepared.findings.counts["currency-not-main"] >= 1  # the EUR process and the sample's GBP
