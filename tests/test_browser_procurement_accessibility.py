"""axe-core (WCAG 2.0/2.1 A and AA) on the procurement pages, at 1280 px and 390 px, in Debian Chromium.

The pages are those of real OCDS data (the OCP sample from ocdskit's sdist and three packages of OCDS's own test files)
published by the real pipeline, served by the real app under uvicorn.
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from opendata.settings import Settings
from publishers.runner import run_job
from tests import axe
from tests.test_procurement_publish import CONTACTS, OCDS, REVIEWED, write_ocds_job
from tests.web_fixtures import NEEDS_CHROMIUM, LiveServer, browser_session

pytestmark = [
    NEEDS_CHROMIUM,
    axe.NEEDS_AXE,
]

PAGES = [
    "/procurement/cdmx-contracts",
    "/procurement/cdmx-contracts/buyers/GDF9712054NA",
    "/procurement/cdmx-contracts/suppliers/CES031203IG0",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("procurement-axe")
    folder = root / "jobs" / "cdmx"
    folder.mkdir(parents=True)
    (folder / "sample.json").write_bytes(gzip.decompress((OCDS / "ocds-sample-data.json.gz").read_bytes()))
    files = ["release-package_encoding-iso-8859-1.json", "record-package-1.json", "release-package_split.json"]
    for name in files:
        shutil.copy(OCDS / name, folder / name)
    job = write_ocds_job(folder, ["sample.json", *files], {**CONTACTS, **REVIEWED})
    settings = Settings(home=root / "home", pseudonym_key="test-key-not-secret", datasets_dir=root / "jobs",
                        rate_limit_anonymous=100_000)
    settings.paths.ensure()
    result = run_job(job, settings)
    assert result.ok, [(r.run.dataset, r.run.error) for r in (result, *result.family)]
    with LiveServer(settings) as live:
        yield live


@pytest.fixture(scope="module", params=axe.WIDTHS, ids=lambda w: f"{w}px")
def browser(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with browser_session(tmp_path_factory.mktemp("axe-profile"), width=request.param) as driver:
        yield driver


def test_procurement_pages_have_no_wcag_aa_violation(server: LiveServer, browser: Any) -> None:
    axe.pages_clean(browser, server.url, PAGES)
