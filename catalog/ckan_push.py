"""Push the published catalog to an existing CKAN: organisations, packages and their resources.

For each organisation with a published dataset: ``organization_show``, and ``organization_create`` when
CKAN does not have it. For each published dataset: ``package_show``; ``package_create`` with every
release's resources when CKAN does not have it, else ``package_update`` (keeping the resources CKAN has)
and ``resource_create`` for each release resource CKAN does not have yet (matched by URL). Pushing twice
changes nothing the second time but the package metadata.

A release gives three resources, each pointing at this site: the Parquet file, the CSV export and the
``datapackage.json``; their descriptions link the privacy and validation reports. The CKAN client is
ckanapi's ``RemoteCKAN`` (anything with the same ``call_action`` works).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from catalog.models import Dataset, Organization, Release
from catalog.store import Catalog
from opendata.errors import PushFailed, RemoteUnavailable

Outcome = Literal["created", "updated", "unchanged"]


class CkanClient(Protocol):
    def call_action(self, action: str, data_dict: dict[str, Any] | None = None, **kwargs: Any) -> Any: ...


class PushStep(BaseModel):
    """One thing done on the remote CKAN (ckanapi's JSON-lines style: one per line with --json)."""

    kind: Literal["organization", "package", "resource"]
    name: str
    outcome: Outcome
    package: str | None = None


class PushReport(BaseModel):
    url: str
    steps: list[PushStep]

    def count(self, kind: str, outcome: str) -> int:
        return sum(s.kind == kind and s.outcome == outcome for s in self.steps)


def release_resources(release: Release, public_url: str) -> list[dict[str, Any]]:
    """The CKAN resources of one release, pointing at this site's API."""
    api = f"{public_url}/api/v1/datasets/{release.dataset}/releases/{release.number}"
    reports = f"Privacy report: {api}/privacy-report. Validation report: {api}/validation-report."
    return [
        {"name": f"Release {release.number} (Parquet)", "url": f"{api}/data.parquet", "format": "Parquet",
         "mimetype": "application/vnd.apache.parquet", "hash": release.files.get("data.parquet", ""),
         "description": f"Release {release.number}: {release.rows} rows, typed per its Table Schema. {reports}",
         "last_modified": release.published_at},
        {"name": f"Release {release.number} (CSV)",
         "url": f"{public_url}/api/v1/datasets/{release.dataset}/export.csv?release={release.number}",
         "format": "CSV", "mimetype": "text/csv",
         "description": f"Release {release.number} as CSV: every row, streamed.",
         "last_modified": release.published_at},
        {"name": f"Release {release.number} (datapackage.json)", "url": f"{api}/datapackage.json",
         "format": "JSON", "mimetype": "application/json", "hash": release.files.get("datapackage.json", ""),
         "description": f"Data Package v2 descriptor of release {release.number}: schema, licence, checksums.",
         "last_modified": release.published_at},
    ]


def package_fields(dataset: Dataset, public_url: str) -> dict[str, Any]:
    return {
        "name": dataset.name, "title": dataset.title, "notes": dataset.description,
        "owner_org": dataset.organization, "license_id": dataset.license,
        "tags": [{"name": t} for t in dataset.tags], "url": f"{public_url}/datasets/{dataset.name}",
        "version": str(dataset.latest_release or ""),
        "extras": [
            {"key": "frequency", "value": dataset.frequency or ""},
            {"key": "schedule", "value": dataset.schedule or ""},
            {"key": "source_homepage", "value": dataset.homepage or ""},
            {"key": "dcat_catalog", "value": f"{public_url}/catalog.ttl"},
        ],
    }


class CkanPusher:
    def __init__(self, catalog: Catalog, client: CkanClient, public_url: str, remote_url: str) -> None:
        self.catalog = catalog
        self.client = client
        self.public_url = public_url.rstrip("/")
        self.remote_url = remote_url

    def call(self, action: str, **data: Any) -> Any:
        """One action; a missing thing is None, a refusal is PushFailed, no answer is RemoteUnavailable."""
        from ckanapi import errors as ckan

        try:
            return self.client.call_action(action, data)
        except ckan.NotFound:
            return None
        except ckan.NotAuthorized as exc:
            raise PushFailed(
                f"{self.remote_url} refused {action}: not authorised ({exc}); give --api-key a key that may "
                "create organisations and datasets there"
            ) from None
        except ckan.ValidationError as exc:
            raise PushFailed(
                f"{self.remote_url} refused {action} for {data.get('name') or data.get('id')}: {exc}"
            ) from None
        except ckan.ServerIncompatibleError as exc:
            raise PushFailed(f"{self.remote_url} does not look like a CKAN site: {exc}") from None
        except ckan.CKANAPIError as exc:
            raise RemoteUnavailable(f"{self.remote_url} failed on {action}: {exc}; try again later") from None
        except OSError as exc:  # requests' connection errors are OSErrors
            raise RemoteUnavailable(f"{self.remote_url} did not answer {action}: {exc}") from None

    def push(self, only: list[str] | None = None, progress: Callable[[PushStep], None] | None = None) -> PushReport:
        steps = []
        for step in self.steps(only):
            steps.append(step)
            if progress:
                progress(step)
        return PushReport(url=self.remote_url, steps=steps)

    def steps(self, only: list[str] | None) -> Iterator[PushStep]:
        datasets = [d for d in self.catalog.datasets() if not only or d.name in only]
        releases: dict[str, list[Release]] = {}
        for release in self.catalog.all_releases():
            releases.setdefault(release.dataset, []).append(release)
        organizations = {o.name: o for o in self.catalog.organizations()}
        for name in sorted({d.organization for d in datasets}):
            yield self.push_organization(organizations.get(name) or Organization(name=name, title=name))
        for dataset in datasets:
            yield from self.push_dataset(dataset, releases.get(dataset.name, []))

    def push_organization(self, organization: Organization) -> PushStep:
        if self.call("organization_show", id=organization.name, include_datasets=False) is not None:
            return PushStep(kind="organization", name=organization.name, outcome="unchanged")
        self.call("organization_create", name=organization.name, title=organization.title)
        return PushStep(kind="organization", name=organization.name, outcome="created")

    def push_dataset(self, dataset: Dataset, releases: list[Release]) -> Iterator[PushStep]:
        fields = package_fields(dataset, self.public_url)
        wanted = [r for release in releases for r in release_resources(release, self.public_url)]
        existing = self.call("package_show", id=dataset.name)
        if existing is None:
            self.call("package_create", **fields, resources=wanted)
            yield PushStep(kind="package", name=dataset.name, outcome="created")
            for resource in wanted:
                yield PushStep(kind="resource", name=resource["name"], outcome="created", package=dataset.name)
            return
        kept = [r for r in existing.get("resources", []) if isinstance(r, dict)]
        self.call("package_update", id=existing.get("id", dataset.name), **fields, resources=kept)
        yield PushStep(kind="package", name=dataset.name, outcome="updated")
        have = {r.get("url") for r in kept}
        for resource in wanted:
            if resource["url"] in have:
                yield PushStep(kind="resource", name=resource["name"], outcome="unchanged", package=dataset.name)
                continue
            self.call("resource_create", package_id=existing.get("id", dataset.name), **resource)
            yield PushStep(kind="resource", name=resource["name"], outcome="created", package=dataset.name)


def remote_ckan(url: str, api_key: str) -> CkanClient:
    from ckanapi import RemoteCKAN

    client: CkanClient = RemoteCKAN(url, apikey=api_key, user_agent="opendata-platform ckan push")
    return client
