"""CKAN's read actions over the published catalog (only published datasets and releases exist here)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from api.ckan.actions import ACTIONS, ActionContext, register_action
from api.ckan.shapes import organization_dict, package_dict, resource_dict
from api.ckan.solr_query import parse
from api.web.organization_view import organization_profile
from api.web.state import get_web
from catalog.models import Dataset, Organization
from catalog.search import SearchQuery
from opendata.errors import CatalogError, QueryError, SearchQueryError

CKAN_VERSION = "2.10.4"
SORT_KEYS = {"name", "title_string", "metadata_modified", "metadata_created", "score"}
#: The search index's column each CKAN sort key orders by ("score" is the relevance itself).
SORT_COLUMNS = {"name": "d.name", "title_string": "d.sort_title", "metadata_modified": "d.updated_at",
                "metadata_created": "d.created_at", "score": "score"}
FQ_FILTERS = {"organization": "organization", "owner_org": "organization", "license_id": "license",
              "res_format": "format"}


#: The largest offset or count accepted: past any catalog or table, and inside DuckDB's BIGINT (an offset of
#: 2**63 overflowed it: a 500) and JSON's exact integers.
MAX_INTEGER = 2**53


def integer(data: dict[str, Any], key: str, default: int, low: int = 0, high: int = MAX_INTEGER) -> int:
    raw = data.get(key, default)
    try:
        value = int(raw) if not isinstance(raw, str) or len(raw) <= 20 else None
    except (TypeError, ValueError):
        value = None
    if value is None:
        raise QueryError(f"{key} must be a whole number, not {str(raw)[:40]!r}", parameter=key)
    if value < low or value > high:
        raise QueryError(f"{key} must be between {low} and {high}", parameter=key)
    return value


def flag(data: dict[str, Any], key: str, default: bool = False) -> bool:
    raw = data.get(key, default)
    return raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1", "yes")


def required(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise QueryError(f"Missing value: give '{key}'", parameter=key)
    return value


def _organizations(ctx: ActionContext, names: Iterable[str] | None = None) -> dict[str, Organization]:
    """Organisations by name: every one, with its dataset count; or just ``names``, by key in one query and
    without counts (a package shows its organisation's name and title only)."""
    if names is None:
        return {o.name: o for o in ctx.catalog.organizations()}
    titles = ctx.catalog.organization_titles(sorted(set(names)))
    return {name: Organization(name=name, title=title) for name, title in titles.items()}


def _package(ctx: ActionContext, dataset: Dataset, orgs: dict[str, Organization]) -> dict[str, Any]:
    releases = ctx.published.releases(dataset.name)
    return package_dict(dataset, releases, orgs.get(dataset.organization), ctx.base_url)


def package_list(ctx: ActionContext, data: dict[str, Any]) -> list[str]:
    """Names of the published datasets, by name (limit, offset; without a limit, every name)."""
    offset = integer(data, "offset", 0)
    limit = integer(data, "limit", 0, low=0) if "limit" in data else None
    names, _ = ctx.catalog.published_names(limit, offset)
    return names


def package_show(ctx: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """One dataset with its releases as resources (id: name)."""
    name = required(data, "id")
    dataset = ctx.published.dataset(name)
    return _package(ctx, dataset, _organizations(ctx, [dataset.organization]))


def _fq_list(data: dict[str, Any]) -> list[str]:
    """``fq`` and CKAN 2.9's ``fq_list`` (a list of filter queries), as strings."""
    found = [str(data.get("fq") or "")]
    extra = data.get("fq_list") or []
    if not isinstance(extra, list) or not all(isinstance(v, str) for v in extra):
        raise SearchQueryError("fq_list must be a list of filter query strings")
    return found + extra


def package_search(ctx: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Search published datasets: q (words, all must match, over title, tags, column names, organisation and
    description; stemmed, the last a prefix; and field:value clauses), fq / fq_list (field:value clauses on
    title, name, id, tags, organization, owner_org, license_id, res_format), rows, start, sort. Answered by the
    catalog's search index."""
    q = data.get("q") or ""
    if not isinstance(q, str):
        raise SearchQueryError("q must be a query string")
    parsed = parse(q, _fq_list(data))
    rows = integer(data, "rows", 10, high=1000)
    start = integer(data, "start", 0)
    sort = str(data.get("sort") or "score desc, metadata_modified desc")
    order = []
    for key in [s.strip() for s in sort.split(",") if s.strip()]:
        field, _, direction = key.partition(" ")
        if field not in SORT_KEYS or direction.strip().lower() not in ("", "asc", "desc"):
            raise SearchQueryError(f"cannot sort on '{key}': use {', '.join(sorted(SORT_KEYS))} asc|desc")
        order.append((SORT_COLUMNS[field], direction.strip().lower() == "desc"))
    filters: dict[str, str] = {}
    names = parsed.values("name", "id")
    if len(set(names)) > 1:  # a dataset has one name: two different ones match nothing
        names = [""]
    for field, column in FQ_FILTERS.items():
        for value in parsed.values(field):
            filters.setdefault(column, value)
            if filters[column] != value:  # two values of one single-valued field: nothing matches
                names = [""]
    text = " ".join(parsed.words)
    query = SearchQuery(q=text or None, title=" ".join(parsed.title) or None, **filters)
    result = get_web(ctx.request).search.search(query, limit=rows, offset=start, facets=False, names=names or None,
                                               tags=parsed.values("tags"), order=order)
    orgs = _organizations(ctx, [hit.dataset.organization for hit in result.hits])
    found = [_package(ctx, hit.dataset, orgs) for hit in result.hits]
    return {"count": result.total, "results": found, "sort": sort, "facets": {}, "search_facets": {}}


def organization_list(ctx: ActionContext, data: dict[str, Any]) -> list[Any]:
    """Organisation names, or dicts with all_fields=true."""
    counts = _package_counts(ctx)
    orgs = sorted(_organizations(ctx).values(), key=lambda o: o.name)
    if flag(data, "all_fields"):
        return [organization_dict(o, ctx.base_url, counts.get(o.name, 0), organization_profile(ctx.catalog, o.name))
                for o in orgs]
    return [o.name for o in orgs]


def _package_counts(ctx: ActionContext) -> dict[str, int]:
    return ctx.catalog.published_counts()


def organization_show(ctx: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """One organisation (id: name), with its published datasets unless include_datasets=false."""
    name = required(data, "id")
    orgs = _organizations(ctx)
    if name not in orgs:
        raise CatalogError(f"organization '{name}' does not exist")
    result = organization_dict(orgs[name], ctx.base_url, _package_counts(ctx).get(name, 0),
                               organization_profile(ctx.catalog, name))
    if flag(data, "include_datasets", True):  # CKAN lists at most 1000 (ckan.search.rows_max)
        hits = get_web(ctx.request).search.search(SearchQuery(organization=name), limit=1000, facets=False,
                                                 order=[("d.name", False)])
        result["packages"] = [_package(ctx, h.dataset, orgs) for h in hits.hits]
    return result


def resource_show(ctx: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """One resource: id is "<dataset>@<release>" (or a dataset name: its latest release)."""
    name, _, number = required(data, "id").partition("@")
    releases = ctx.published.releases(name)
    for position, release in enumerate(reversed(releases)):
        if not number or str(release.number) == number:
            return resource_dict(release, ctx.base_url, position)
    raise CatalogError(f"resource '{data['id']}' does not exist; resource ids are <dataset>@<release>")


def status_show(ctx: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """What this site is and which CKAN API it speaks."""
    return {
        "site_title": ctx.request.app.title, "site_url": ctx.base_url, "site_description": ctx.request.app.description,
        "ckan_version": CKAN_VERSION, "api_version": 3, "locale_default": "en", "error_emails_to": None,
        "extensions": ["datastore"],
    }


def help_show(ctx: ActionContext, data: dict[str, Any]) -> str:
    """The documentation of an action (name)."""
    name = required(data, "name")
    action = ACTIONS.get(name)
    if action is None:
        raise CatalogError(f"there is no action '{name}'")
    return (action.handler.__doc__ or name).strip()


for _handler in (package_list, package_show, package_search, organization_list, organization_show, resource_show,
                 status_show, help_show):
    register_action(_handler.__name__, _handler)
