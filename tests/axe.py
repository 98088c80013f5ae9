"""axe-core in the browser tests: the npm registry's axe-core (package.json, installed by `make test` with
`npm ci`) injected into the page Chromium shows, run on WCAG 2.0/2.1 A and AA rules.

``violations(driver)`` returns axe's violations of the page the driver shows, each reduced to what a
failure message needs (rule id, impact, help and the first offending nodes).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

AXE_SCRIPT = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (1280, 390)


def installed() -> bool:
    return AXE_SCRIPT.exists()


def skip_reason() -> str | None:
    """None when axe can run; under CI a missing axe-core is a failure, not a skip."""
    if installed() or os.environ.get("CI"):
        return None
    return f"needs {AXE_SCRIPT} (run `npm ci` at the repository root)"


#: Skips axe tests only where axe-core is missing and CI is not set (under CI a missing axe-core fails).
NEEDS_AXE = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")


def violations(driver: Any, tags: list[str] | None = None) -> list[dict[str, Any]]:
    if not installed():
        raise RuntimeError(f"axe-core is not installed at {AXE_SCRIPT}: run `npm ci`")
    driver.execute_script(AXE_SCRIPT.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
           .then(r => done(r.violations)).catch(e => done({error: String(e)}));
        """,
        tags or WCAG_AA,
    )
    if isinstance(result, dict) and "error" in result:
        raise RuntimeError(f"axe-core failed on {driver.current_url}: {result['error']}")
    return [
        {"id": v["id"], "impact": v.get("impact"), "help": v["help"],
         "nodes": [node["target"] for node in v["nodes"][:3]]}
        for v in result
    ]


def describe(found: list[dict[str, Any]]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in found)


def pages_clean(browser: Any, base_url: str, paths: list[str]) -> None:
    """Every page answers 200 and axe finds no violation on it; else one assertion naming each failure."""
    import httpx

    failures = {}
    for path in paths:
        status = httpx.get(base_url + path, headers={"Accept": "text/html"}).status_code
        assert status == 200, f"{path} answered {status}"
        browser.get(base_url + path)
        if found := violations(browser):
            failures[path] = describe(found)
    width = browser.get_window_size()["width"]
    assert not failures, f"at {width} px:\n" + "\n".join(f"{p}:\n{d}" for p, d in failures.items())
