"""Make the catalogs of tests/test_schema_upgrade.py with the code of the previous landed version (tag stop-20).

Run from the repository root, with the project's venv (it needs git history; the test does not):

    .venv/bin/python tests/data/stop20/make_fixtures.py

It checks out tag ``stop-20`` into a temporary ``git worktree``, and there (with that code on PYTHONPATH)
publishes a small installation twice: once with the embedded SQLite catalog, once with the catalog in a
throwaway PostgreSQL server, dumped as plain SQL (``pg_dump --no-owner --no-privileges``). Each
installation holds two releases of one dataset, a release approved by an officer, a release held for
approval, a blocked run, an incremental job with its cursor and an API key. What it made is written to
``expected.json`` beside the homes, which the test compares with what the upgraded catalog serves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TAG = "stop-20"
HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent

# What runs inside the old code (python -c, cwd = the stop-20 checkout).
OLD_CODE = r'''
import json, os, shutil, sqlite3, sys
from pathlib import Path
from pydantic import SecretStr
sys.path.insert(0, os.getcwd())
import catalog, catalog.store
assert catalog.__file__.startswith(os.getcwd()), catalog.__file__
from catalog.api_keys import ApiKeyStore
from catalog.approvals import Approvals
from catalog.database import catalog_database, close_databases
from catalog.store import open_catalog
from opendata.settings import Settings
from publishers.runner import run_job
from tests.conftest import PEOPLE_PRIVACY, PEOPLE_ROWS
from tests.publishers_fixtures import write_source_job

out, url = Path(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else "")
jobs = out / "jobs"
settings = Settings(home=out / "home", pseudonym_key="fixture-key-not-secret", datasets_dir=jobs,
                    catalog_url=SecretStr(url) if url else None)
settings.paths.ensure()
people = [{"name": "request_id", "type": "integer"}, {"name": "opened", "type": "datetime"},
          {"name": "category", "type": "string"}, {"name": "notes", "type": "string"},
          {"name": "contact_email", "type": "string"}, {"name": "latitude", "type": "number"}]
import csv
def people_job(name, rows, **extra):
    folder = jobs / name
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "rows.csv", "w", newline="") as handle:
        w = csv.writer(handle); w.writerow([f["name"] for f in people]); w.writerows(rows)
    job = write_source_job(folder, name, {"type": "csv", "path": "rows.csv"}, people, primaryKey=["request_id"],
                           **extra)
    import yaml
    doc = yaml.safe_load(job.read_text()); doc["privacy"] = {**PEOPLE_PRIVACY, **extra.get("privacy", {})}
    job.write_text(yaml.safe_dump(doc, sort_keys=False))
    return job

requests = people_job("service-requests", PEOPLE_ROWS[:3])
run_job(requests, settings)
people_job("service-requests", PEOPLE_ROWS)
run_job(requests, settings)
reviewed = people_job("reviewed-requests", PEOPLE_ROWS, privacy={"requires_approval": True})
run_job(reviewed, settings)
Approvals(open_catalog(settings)).decide("reviewed-requests", 1, "approved", by="Ada", role="officer",
                                         reason="report read", via="cli")
held = people_job("held-requests", PEOPLE_ROWS, privacy={"requires_approval": True})
run_job(held, settings)
blocked = people_job("blocked-requests", [[*r[:4], r[4], r[5]] for r in PEOPLE_ROWS])
import yaml
doc = yaml.safe_load(blocked.read_text()); doc["privacy"] = {"columns": {"latitude": "keep"}}
blocked.write_text(yaml.safe_dump(doc, sort_keys=False))
run_job(blocked, settings)
agency = jobs / "codes" / "agency.db"
agency.parent.mkdir(parents=True, exist_ok=True)
db = sqlite3.connect(agency)
db.execute("CREATE TABLE codes (id INTEGER PRIMARY KEY, code TEXT)")
db.executemany("INSERT INTO codes VALUES (?, ?)", [(1, "A"), (2, "B"), (7, "G")])
db.commit(); db.close()
codes = write_source_job(jobs / "codes", "codes", {"type": "sql", "url": "sqlite:///agency.db", "table": "codes"},
                         [{"name": "id", "type": "integer"}, {"name": "code", "type": "string"}],
                         primaryKey=["id"], incremental={"cursor": "id"})
run_job(codes, settings)
key = ApiKeyStore(catalog_database(settings)).create("transit-app", "developer").key
cat = open_catalog(settings)
with cat.database.connect() as c:
    def rows(sql):
        return [dict(r) for r in c.execute(sql).fetchall()]
    expected = {
        "tag": "stop-20",
        "api_key": key,
        "datasets": rows("SELECT name, organization, title FROM datasets ORDER BY name"),
        "releases": rows("SELECT dataset, number, state, rows, run_id FROM releases ORDER BY dataset, number"),
        "runs": rows("SELECT run_id, dataset, state, release, rows_in, rows_out FROM runs ORDER BY run_id"),
        "approvals": rows("SELECT dataset, number, decision, decided_by, reason FROM approvals ORDER BY id"),
        "api_keys": rows("SELECT id, name, role FROM api_keys ORDER BY id"),
        "cursors": rows("SELECT dataset, cursor_column, value FROM job_cursors ORDER BY dataset"),
    }
(out / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
close_databases()
'''


def _run_old(checkout: Path, out: Path, url: str = "") -> None:
    env = {**os.environ, "PYTHONPATH": str(checkout), "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""}
    subprocess.run([sys.executable, "-c", OLD_CODE, str(out), *([url] if url else [])], cwd=checkout, env=env,
                   check=True)


def _keep(made: Path, target: Path) -> None:
    """The parts of a home that a catalog refers to: the catalog file, the public side, the private reports."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy(made / "expected.json", target / "expected.json")
    home = made / "home"
    for name in ("public", "private"):
        if (home / name).exists():
            shutil.copytree(home / name, target / "home" / name,
                            ignore=shutil.ignore_patterns("staging", "*.lock", "locks"))
    if (home / "catalog.sqlite3").exists():
        source = __import__("sqlite3").connect(home / "catalog.sqlite3")
        dest = __import__("sqlite3").connect(target / "catalog.sqlite3")
        source.backup(dest)  # one file, the WAL folded in
        dest.execute("PRAGMA journal_mode=DELETE")
        dest.close()
        source.close()


def main() -> None:
    sys.path.insert(0, str(REPO))
    from tests.publishers_fixtures import throwaway_postgres

    with tempfile.TemporaryDirectory(prefix="stop20-") as scratch:
        checkout = Path(scratch) / "code"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(checkout), TAG], check=True)
        try:
            _run_old(checkout, Path(scratch) / "sqlite")
            _keep(Path(scratch) / "sqlite", HERE / "sqlite")
            with throwaway_postgres() as url:
                _run_old(checkout, Path(scratch) / "postgres", url)
                pg_dump = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))[-1]
                dump = subprocess.run([str(pg_dump), "--no-owner", "--no-privileges", "--format=plain", url],
                                      check=True, capture_output=True, text=True).stdout
            _keep(Path(scratch) / "postgres", HERE / "postgres")
            (HERE / "postgres" / "catalog.sql").write_text(dump)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(checkout)], check=False)


if __name__ == "__main__":
    main()
