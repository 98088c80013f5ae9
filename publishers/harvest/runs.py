"""Harvest runs: each in a child process with a time limit (a hung portal is killed, never waited on),
one at a time per harvest, and a run history in the catalog database (``harvest_runs``).

A run is ``succeeded`` (its report's counts and entries kept), ``failed`` (the error: a portal that
kept failing, a catalog that is not RDF, ...) or ``timed-out``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from catalog.store import open_catalog, utc_now
from opendata.settings import Settings
from publishers.harvest.model import HarvestReport
from publishers.harvest.spec import HarvestSpec, load_harvest
from publishers.supervise import settings_environment


class HarvestRun(BaseModel):
    run_id: str
    harvest: str
    trigger: str
    state: Literal["running", "succeeded", "failed", "timed-out"]
    started_at: str
    ended_at: str | None = None
    error: str | None = None
    report: HarvestReport | None = Field(default=None, description="new, changed, removed, skipped per source")


def _command(spec: HarvestSpec, settings: Settings) -> list[str]:
    command = [sys.executable, "-m", "opendata.cli", "--home", str(settings.paths.root), "harvest", spec.kind,
               spec.url, "--into", str(spec.folder), "--json"]
    if spec.organization:
        command += ["--organization", spec.organization]
    if spec.query:
        command += ["--query", spec.query]
    return command


def _save(settings: Settings, run: HarvestRun) -> None:
    catalog = open_catalog(settings)
    report = run.report.model_dump_json() if run.report is not None else None
    with catalog.transaction() as db:
        db.execute(
            "INSERT INTO harvest_runs(run_id, harvest, trigger, state, started_at, ended_at, error, report) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id) DO UPDATE SET state = excluded.state, "
            "ended_at = excluded.ended_at, error = excluded.error, report = excluded.report",
            (run.run_id, run.harvest, run.trigger, run.state, run.started_at, run.ended_at, run.error, report))


def run_harvest(spec_path: str | Path, settings: Settings, *, trigger: str = "manual") -> HarvestRun:
    """One supervised harvest: the child runs ``opendata harvest KIND URL --json``; past ``timeout`` its
    whole process group is killed. Raises JobFileError for a bad harvest file."""
    spec = load_harvest(spec_path)
    settings.paths.ensure()
    catalog = open_catalog(settings)
    busy = f"harvest '{spec.name}' is already running; wait for that run to end"
    with catalog.database.exclusive(f"harvest-{spec.name}", settings.paths.private / "locks", busy):
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
        run = HarvestRun(run_id=run_id, harvest=spec.name, trigger=trigger, state="running", started_at=utc_now())
        _save(settings, run)
        env = settings_environment(settings)
        if spec.api_key:
            env["CKAN_API_KEY"] = spec.api_key
        process = subprocess.Popen(_command(spec, settings), env=env, start_new_session=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = process.communicate(timeout=spec.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            run = run.model_copy(update={
                "state": "timed-out", "ended_at": utc_now(),
                "error": f"timed out after {spec.timeout:g}s and was killed; raise the harvest's `timeout` if the "
                         "portal needs longer, or look at why it hangs"})
            _save(settings, run)
            return run
        run = run.model_copy(update={"ended_at": utc_now(), **_outcome(process.returncode, out, err)})
        _save(settings, run)
        return run


def _outcome(code: int, out: bytes, err: bytes) -> dict[str, Any]:
    try:
        body = json.loads(out.decode("utf-8", "replace") or "null")
    except json.JSONDecodeError:
        body = None
    if code == 0 and isinstance(body, dict) and "entries" in body:
        return {"state": "succeeded", "report": HarvestReport.model_validate(body)}
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return {"state": "failed", "error": str(body["error"].get("message"))}
    tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit code {code}"]
    return {"state": "failed", "error": f"the harvest process ended with code {code}: {tail[0][:500]}"}


def history(settings: Settings, name: str | None = None, limit: int = 20) -> list[HarvestRun]:
    """The latest runs, newest first (of one harvest, or of all)."""
    catalog = open_catalog(settings)
    where, params = ("WHERE harvest = ? ", [name]) if name else ("", [])
    with catalog.transaction() as db:
        rows = db.execute(
            "SELECT run_id, harvest, trigger, state, started_at, ended_at, error, report FROM harvest_runs "
            f"{where}ORDER BY started_at DESC, run_id DESC LIMIT ?", (*params, limit)).fetchall()
    return [HarvestRun(run_id=r[0], harvest=r[1], trigger=r[2], state=r[3], started_at=r[4], ended_at=r[5],
                       error=r[6], report=HarvestReport.model_validate_json(r[7]) if r[7] else None) for r in rows]
