"""CKAN's write actions: organization_create, package_create, package_update, resource_create (admin key).

They let another catalog push to this one the way it would push to CKAN (``opendata ckan push`` does, and
its tests push to a second instance of this API over real HTTP). A pushed package is a CKAN document kept
as it was sent, in the ``ckan_packages`` table of the catalog database; it is not a release of ours and
never enters the publishing pipeline. ``package_show`` answers pushed packages first, then the published
datasets. A dataset this site publishes itself cannot be created or replaced through these actions.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import api.ckan.read_actions  # noqa: F401  (package_show must be registered before it is wrapped)
from api.ckan.actions import ACTIONS, ActionContext, register_action
from api.ckan.shapes import organization_dict
from catalog.database import CatalogDatabase
from catalog.store import utc_now
from opendata.errors import ActionConflict, CatalogError, QueryError

NAME = re.compile(r"^[a-z0-9_-]{2,100}$")
PACKAGE_FIELDS = ("title", "notes", "owner_org", "license_id", "url", "version", "author", "maintainer", "private")
RESOURCE_FIELDS = ("url", "name", "description", "format", "mimetype", "hash", "size", "last_modified")



class PushedPackages:
    """CKAN package documents pushed to this site, one row each."""

    def __init__(self, database: CatalogDatabase) -> None:
        self.database = database

    def _connect(self) -> Any:
        return self.database.connect()

    def get(self, name: str) -> dict[str, Any] | None:
        with self._connect() as db:
            row = db.execute("SELECT document FROM ckan_packages WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, package: dict[str, Any]) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO ckan_packages(name, owner_org, document, created, modified) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET owner_org = excluded.owner_org, document = excluded.document, "
                "modified = excluded.modified",
                (package["name"], package["owner_org"], json.dumps(package), package["metadata_created"],
                 package["metadata_modified"]),
            )


def _store(ctx: ActionContext) -> PushedPackages:
    return PushedPackages(ctx.catalog.database)


def _name(data: dict[str, Any], key: str = "name") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise QueryError(
            f"{key} must be 2-100 lowercase letters, digits, '-' or '_' (got {value!r})", parameter=key
        )
    return value


def organization_create(ctx: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Create an organisation (name, title)."""
    name = _name(data)
    if any(o.name == name for o in ctx.catalog.organizations()):
        raise ActionConflict(f"Group name already exists in database: organisation '{name}'")
    ctx.catalog.upsert_organization(name, str(data.get("title") or name))
    organization = next(o for o in ctx.catalog.organizations() if o.name == name)
    return organization_dict(organization, ctx.base_url, 0) | {"description": str(data.get("description") or "")}


def _resource(data: dict[str, Any], package: str, position: int, created: str) -> dict[str, Any]:
    url = data.get("url")
    if not isinstance(url, str) or not url:
        raise QueryError("a resource needs a url", parameter="url")
    resource: dict[str, Any] = {k: data.get(k) for k in RESOURCE_FIELDS}
    resource.update(
        id=str(data.get("id") or uuid.uuid4()), package_id=package, position=position, state="active",
        created=str(data.get("created") or created), name=str(data.get("name") or url.rsplit("/", 1)[-1]),
        format=str(data.get("format") or ""), description=str(data.get("description") or ""),
    )
    return resource


def _package(ctx: ActionContext, data: dict[str, Any], name: str, created: str, resources: list[Any]) -> dict[str, Any]:
    owner = data.get("owner_org")
    organizations = {o.name: o for o in ctx.catalog.organizations()}
    if not isinstance(owner, str) or owner not in organizations:
        raise QueryError(f"owner_org {owner!r} is not an organisation here; create it first", parameter="owner_org")
    tags = data.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, dict) and isinstance(t.get("name"), str) for t in tags):
        raise QueryError("tags must be a list of {\"name\": ...} objects", parameter="tags")
    extras = data.get("extras") or []
    if not isinstance(extras, list):
        raise QueryError("extras must be a list of {\"key\", \"value\"} objects", parameter="extras")
    now = utc_now()
    package: dict[str, Any] = {k: data.get(k) for k in PACKAGE_FIELDS}
    package.update(
        id=name, name=name, type="dataset", state="active", private=bool(data.get("private", False)),
        title=str(data.get("title") or name), notes=str(data.get("notes") or ""),
        organization=organization_dict(organizations[owner], ctx.base_url, 0),
        tags=[{"name": t["name"], "display_name": t["name"], "state": "active"} for t in tags],
        num_tags=len(tags), extras=extras, metadata_created=created, metadata_modified=now,
    )
    package["resources"] = [_resource(r, name, i, now) for i, r in enumerate(resources) if isinstance(r, dict)]
    package["num_resources"] = len(package["resources"])
    return package


def _published(ctx: ActionContext, name: str) -> bool:
    return ctx.published.exists(name)


def package_create(ctx: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Create a package (name, title, notes, owner_org, license_id, tags, extras, resources)."""
    name = _name(data)
    store = _store(ctx)
    if store.get(name) is not None or _published(ctx, name):
        raise ActionConflict(f"That URL is already in use: package '{name}'")
    package = _package(ctx, data, name, utc_now(), list(data.get("resources") or []))
    store.put(package)
    return package


def package_update(ctx: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Replace a pushed package (id or name); resources are kept when the call does not give them."""
    name = str(data.get("id") or data.get("name") or "")
    store = _store(ctx)
    existing = store.get(name)
    if existing is None:
        if _published(ctx, name):
            raise ActionConflict(f"package '{name}' is published by this site's own pipeline; it cannot be replaced")
        raise CatalogError(f"package '{name}' does not exist")
    resources = data["resources"] if "resources" in data else existing["resources"]
    package = _package(ctx, data, name, existing["metadata_created"], list(resources or []))
    store.put(package)
    return package


def resource_create(ctx: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Add a resource (url, name, format, ...) to a pushed package (package_id)."""
    name = str(data.get("package_id") or "")
    store = _store(ctx)
    package = store.get(name)
    if package is None:
        raise CatalogError(f"package '{name}' does not exist")
    resource = _resource(data, name, len(package["resources"]), utc_now())
    package["resources"].append(resource)
    package["num_resources"] = len(package["resources"])
    package["metadata_modified"] = utc_now()
    store.put(package)
    return resource


_published_package_show = ACTIONS["package_show"].handler


def package_show(ctx: ActionContext, data: dict[str, Any]) -> Any:
    """One package (id: name): a pushed one, else a dataset this site publishes."""
    pushed = _store(ctx).get(str(data.get("id") or ""))
    return pushed if pushed is not None else _published_package_show(ctx, data)


register_action("package_show", package_show)
for _handler in (organization_create, package_create, package_update, resource_create):
    register_action(_handler.__name__, _handler, write=True)
