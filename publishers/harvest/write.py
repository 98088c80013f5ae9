"""Harvested resources to reviewed job files, and the per-source report.

Each candidate becomes ``<into>/<organization>/<name>.yaml`` and its ``.schema.json``. The harvest owns
the keys it maps from the portal (title, description, licence, tags, source, schema, ...); everything a
steward added or reviewed stays as they left it, the ``privacy`` block above all (columns new in the
source get a proposal beside the reviewed rules). ``.harvest-state.json`` in ``into`` remembers, per
portal, each source's job file and the portal's last-change stamp (``metadata_modified``): a source
whose stamp has not moved is skipped without being read again, and one that left the portal has its
job files removed.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml

from opendata.errors import OpendataError
from opendata.settings import Settings
from publishers.harvest.model import Candidate, HarvestEntry, HarvestReport
from publishers.harvest.privacy import propose_policy
from publishers.harvest.vocabulary import slug
from publishers.job import load_job
from publishers.preview import infer_from_table, preview

STATE_FILE = ".harvest-state.json"
OWNED = ("name", "title", "description", "organization", "organization_title", "license", "tags", "homepage",
         "frequency", "schedule", "source", "schema")
SAMPLE_ROWS = 1000


class Harvest:
    """One harvest of one portal into ``into``: per source, :meth:`unchanged` (then :meth:`keep`),
    :meth:`write` or :meth:`skip`; then :meth:`finish`."""

    def __init__(self, origin: str, into: Path, settings: Settings) -> None:
        self.origin, self.into, self.settings = origin, into, settings
        self.report = HarvestReport(origin=origin)
        self._state_path = into / STATE_FILE
        everything = json.loads(self._state_path.read_text()) if self._state_path.is_file() else {}
        self._state_all: dict[str, Any] = everything
        self._before: dict[str, dict[str, Any]] = dict(everything.get(origin, {}).get("sources", {}))
        self._now: dict[str, dict[str, Any]] = {}
        self._names: set[str] = set()

    def unchanged(self, key: str, modified: str | None) -> bool:
        """Whether the source's stamp is the one the last harvest saw (and its job file is still there)."""
        known = self._before.get(key)
        if known is None or modified is None or known.get("modified") != modified:
            return False
        return "skipped" in known or (self.into / known["job"]).is_file()

    def keep(self, key: str) -> None:
        """Report an :meth:`unchanged` source as skipped, keeping what the last harvest wrote for it."""
        known = self._now[key] = self._before[key]
        self._cursor(known.get("modified"))
        if "skipped" in known:
            self.report.entries.append(HarvestEntry(source=key, outcome="skipped", why=known["skipped"]))
            return
        self._names.add(known.get("dataset", ""))
        self.report.entries.append(HarvestEntry(
            source=key, dataset=known.get("dataset"), outcome="skipped", job_file=known["job"],
            why=f"unchanged since {known['modified']} (the portal's last-modified stamp)"))

    def skip(self, key: str, why: str, modified: str | None = None, dataset: str | None = None) -> None:
        """A source that gets no job file (not a table, unreadable), with why."""
        known = self._before.get(key)
        if known is not None and "job" in known:  # it had a job: that job stays until the source is gone
            self._now[key] = known
        else:
            self._now[key] = {"modified": modified, "skipped": why}
        self.report.entries.append(HarvestEntry(source=key, dataset=dataset, outcome="skipped", why=why))

    def write(self, candidate: Candidate) -> HarvestEntry:
        name = self._free_name(candidate)
        folder = self.into / candidate.organization
        job_path, schema_path = folder / f"{name}.yaml", folder / f"{name}.schema.json"
        existing = yaml.safe_load(job_path.read_text(encoding="utf-8")) if job_path.is_file() else None
        existing = existing if isinstance(existing, dict) else None
        owned = {k: v for k, v in self._owned(candidate, name).items() if v not in (None, "", [])}
        try:
            sample, schema = self._sample_and_schema(candidate, owned)
        except OpendataError as exc:
            self.skip(candidate.key, f"the source could not be read: {exc}", None, name)
            return self.report.entries[-1]
        privacy = self._privacy(existing, sample)
        dropped = {c for c, rule in privacy.get("columns", {}).items() if _action(rule) == "drop"}
        schema = {**schema, "fields": [f for f in schema["fields"] if f["name"] not in dropped]}  # published columns
        document = {**owned, **{k: v for k, v in (existing or {}).items() if k not in OWNED}, "privacy": privacy}
        job_text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)
        schema_text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        relative = str(job_path.relative_to(self.into))
        self._now[candidate.key] = {"job": relative, "schema": str(schema_path.relative_to(self.into)),
                                    "modified": candidate.modified, "dataset": name}
        self._cursor(candidate.modified)
        before_schema = schema_path.read_text(encoding="utf-8") if schema_path.is_file() else None
        if existing is not None and job_path.read_text(encoding="utf-8") == job_text and before_schema == schema_text:
            entry = HarvestEntry(source=candidate.key, dataset=name, outcome="skipped", job_file=relative,
                                 why="unchanged: the portal's stamp moved but nothing this job holds did")
        else:
            folder.mkdir(parents=True, exist_ok=True)
            schema_path.write_text(schema_text, encoding="utf-8")
            job_path.write_text(job_text, encoding="utf-8")
            why = "first harvest" if existing is None else "changed: " + ", ".join(
                [k for k in OWNED if k != "schema" and existing.get(k) != document.get(k)]
                + (["schema"] if before_schema != schema_text else [])
                + (["privacy (proposals for new columns)"] if existing.get("privacy") != privacy else []))
            entry = HarvestEntry(source=candidate.key, dataset=name, job_file=relative, why=why,
                                 outcome="new" if existing is None else "changed")
        self.report.entries.append(entry)
        return entry

    def finish(self) -> HarvestReport:
        """Remove the job files of sources the portal no longer lists; save the state."""
        for key, known in sorted(self._before.items()):
            if key in self._now or "job" not in known:
                continue
            for relative in (known.get("job"), known.get("schema")):
                if relative and (self.into / relative).is_file():
                    (self.into / relative).unlink()
            self.report.entries.append(HarvestEntry(
                source=key, dataset=known.get("dataset"), outcome="removed", job_file=known.get("job"),
                why=f"no longer listed by {self.origin}; its job file was removed"))
        self._state_all[self.origin] = {"cursor": self.report.cursor, "sources": self._now}
        self.into.mkdir(parents=True, exist_ok=True)
        self._state_path.write_text(json.dumps(self._state_all, indent=2, sort_keys=True) + "\n")
        return self.report

    def _cursor(self, modified: str | None) -> None:
        if modified and (self.report.cursor is None or modified > self.report.cursor):
            self.report.cursor = modified

    def _free_name(self, candidate: Candidate) -> str:
        known = self._before.get(candidate.key)
        name = known["dataset"] if known else candidate.name
        base, number = name, 2
        while name in self._names:
            name = f"{base[:76]}-{number}"
            number += 1
        self._names.add(name)
        return name

    def _owned(self, candidate: Candidate, name: str) -> dict[str, Any]:
        return {"name": name, "title": candidate.title, "description": candidate.description,
                "organization": candidate.organization, "organization_title": candidate.organization_title,
                "license": candidate.license, "tags": candidate.tags, "homepage": candidate.homepage,
                "frequency": candidate.frequency, "schedule": candidate.schedule, "source": candidate.source,
                "schema": f"{name}.schema.json"}

    def _sample_and_schema(self, candidate: Candidate, owned: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """A sample of the source (read through its connector) and the schema: the portal's, or inferred.
        GeoJSON features get one column per property and ``geometry`` as a ``geojson`` field."""
        sample = self._sample(candidate, owned)
        if owned["source"]["type"] == "http_json" and {"type", "geometry", "properties"} <= set(sample.column_names):
            keys: dict[str, None] = {}
            for text in sample.column("properties").to_pylist():
                keys.update(dict.fromkeys(json.loads(text) if text else {}))
            columns = {slug(k, 60).replace("-", "_"): f"$.properties['{k}']" for k in keys if "'" not in k}
            owned["source"] = {**owned["source"], "records": "$.features[*]",
                               "columns": {**columns, "geometry": "$.geometry"}}
            sample = self._sample(candidate, owned)
        if candidate.fields is not None:
            return sample, {"fields": candidate.fields, "missingValues": [""]}
        schema = infer_from_table(sample, enum_max=0)
        for field in schema["fields"]:
            field.pop("constraints", None)  # a sample does not show what is required
            if field["name"] == "geometry" and "records" in owned["source"]:
                field["type"] = "geojson"
        return sample, schema

    def _sample(self, candidate: Candidate, owned: dict[str, Any]) -> Any:
        fields = candidate.fields or [{"name": "placeholder", "type": "any"}]
        with tempfile.TemporaryDirectory(prefix="harvest-") as tmp:
            folder = Path(tmp)
            (folder / "probe.schema.json").write_text(json.dumps({"fields": fields}))
            probe = {**owned, "name": "probe", "schema": "probe.schema.json"}
            (folder / "probe.yaml").write_text(yaml.safe_dump(probe, sort_keys=False))
            return preview(load_job(folder / "probe.yaml"), self.settings, SAMPLE_ROWS)

    def _privacy(self, existing: dict[str, Any] | None, sample: Any) -> dict[str, Any]:
        proposed = propose_policy(sample, self.settings)
        reviewed = (existing or {}).get("privacy")
        if not isinstance(reviewed, dict):
            return proposed
        columns = dict(reviewed.get("columns") or {})
        for column, rule in proposed["columns"].items():
            columns.setdefault(column, rule)
        return {**reviewed, "columns": columns}


def _action(rule: Any) -> str | None:
    if isinstance(rule, str):
        return rule
    if isinstance(rule, dict):
        return str(rule["action"]) if "action" in rule else next(iter(rule), None)
    return None
