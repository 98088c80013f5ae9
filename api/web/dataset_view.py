"""Everything a dataset page shows, gathered from the catalog and the release files into one object."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from fastapi import Request
from markupsafe import Markup

from api.web.charts import bar_chart
from api.web.examples import ApiExample, api_examples, example_filter, example_params, rows_example_url
from api.web.explore import ExplorerView, MapView, explorer_view, map_view
from api.web.profile import ColumnProfile
from api.web.report_pages import report_page_url
from api.web.schema_org import schema_org_dataset
from api.web.state import WebState
from catalog.history import ReleaseDiff, diff_releases
from catalog.models import Dataset, Release
from catalog.search import release_formats
from catalog.store import Catalog
from opendata.errors import CatalogError
from opendata.schedule_words import schedule_in_words

HISTORY_ON_PAGE = 20


@dataclass(frozen=True)
class Download:
    label: str
    url: str
    media: str
    sha256: str | None
    note: str = ""


@dataclass(frozen=True)
class HistoryRow:
    release: Release
    url: str
    privacy_url: str | None
    validation_url: str | None
    diff: ReleaseDiff | None


@dataclass(frozen=True)
class DatasetView:
    dataset: Dataset
    organization_title: str
    release: Release
    latest: Release
    releases: list[Release]
    page_url: str
    downloads: list[Download]
    report_pages: dict[str, str]
    formats: list[str]
    fields: list[dict[str, Any]]
    primary_key: list[str]
    profiles: list[ColumnProfile]
    sample_columns: list[str]
    sample_rows: list[list[str]]
    examples: list[ApiExample]
    example_url: str
    history: list[HistoryRow]
    schema_org: dict[str, Any]
    charts: dict[str, Markup]
    map: MapView | None
    explorer: ExplorerView
    schedule_words: str


def read_privacy(web: WebState, release: Release) -> dict[str, Any] | None:
    """A release's published privacy report, or None when it has none (kept per release)."""
    def load(engine: Any, rel: Release) -> dict[str, Any] | None:
        try:
            document = engine.storage.read_json(rel, "privacy-report.json")
        except (CatalogError, ValueError):
            return None
        return document if isinstance(document, dict) else None

    result: dict[str, Any] | None = web.facts.remember("privacy", release, load)
    return result


def base_url(request: Request) -> str:
    """The site's public base URL: the ``public_url`` setting, else the URL the request came in on."""
    configured: str | None = request.app.state.settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def dataset_view(request: Request, web: WebState, catalog: Catalog, name: str, number: int | None) -> DatasetView:
    dataset = catalog.dataset(name)
    releases = catalog.releases(name)
    release = catalog.release(name, number)
    latest = releases[-1]
    base = base_url(request)
    titles = {o.name: o.title for o in catalog.organizations()}
    page_url = f"{base}/datasets/{name}" + (f"/releases/{number}" if number is not None else "")
    api = f"{base}/api/v1/datasets/{name}/releases/{release.number}"
    sizes = {"data.parquet": _size(web, release, "data.parquet")}
    files = release.files
    downloads = [
        Download("Data (Parquet)", f"{api}/data.parquet", "application/vnd.apache.parquet",
                 files.get("data.parquet"), sizes["data.parquet"]),
        Download("Data (CSV export)", f"{base}/api/v1/datasets/{name}/export.csv?release={release.number}",
                 "text/csv", None, "every row of the release, streamed"),
        Download("Data Package (datapackage.json)", f"{api}/datapackage.json", "application/json",
                 files.get("datapackage.json")),
        Download("Privacy report (JSON)", f"{api}/privacy-report", "application/json",
                 files.get("privacy-report.json")),
        Download("Validation report (JSON)", f"{api}/validation-report", "application/json",
                 files.get("validation-report.json")),
    ]
    report_pages = {
        kind: url for kind in ("privacy", "validation")
        if (url := report_page_url(request.app, base, kind, name, release.number))
    }
    profiles = honest_distinct(web.facts.profile(release), release.rows)
    sample_columns, sample = web.facts.sample(release)
    rows_url = f"{base}/api/v1/datasets/{name}/rows"
    params = example_params(number, example_filter(profiles))
    schema_org = schema_org_dataset(
        dataset, release, titles.get(dataset.organization, ""), page_url,
        [(d.label, d.media, d.url) for d in downloads], web.facts.coverage(release), f"{base}/catalog",
    )
    return DatasetView(
        dataset=dataset, organization_title=titles.get(dataset.organization, dataset.organization),
        release=release, latest=latest, releases=releases, page_url=page_url, downloads=downloads,
        report_pages=report_pages, formats=release_formats(release),
        fields=list(release.table_schema.get("fields", [])), primary_key=_key(release.table_schema),
        profiles=profiles, sample_columns=sample_columns, sample_rows=sample,
        examples=api_examples(rows_url, params), example_url=rows_example_url(rows_url, params),
        history=history_rows(request, web, releases), schema_org=schema_org,
        charts={p.name: bar_chart(p, f"chart-{i}") for i, p in enumerate(profiles)
                if p.kind in ("histogram", "timeseries")},
        map=map_view(base, release, profiles, request.app.state.settings), explorer=explorer_view(base, release),
        schedule_words=schedule_in_words(dataset.schedule, dataset.timezone),
    )


def honest_distinct(profiles: list[ColumnProfile], rows: int) -> list[ColumnProfile]:
    """Estimated distinct counts (of releases profiled before they were exact) capped at the values there are."""
    return [p if p.distinct_exact or p.distinct is None else replace(p, distinct=min(p.distinct, rows - p.nulls))
            for p in profiles]


def history_rows(request: Request, web: WebState, releases: list[Release]) -> list[HistoryRow]:
    base = base_url(request)
    shown = releases[-HISTORY_ON_PAGE:]
    previous = {b.number: a for a, b in zip(releases, releases[1:], strict=False)}
    rows = []
    for release in reversed(shown):
        before = previous.get(release.number)
        diff = None
        if before is not None:
            diff = diff_releases(before, release, read_privacy(web, before), read_privacy(web, release))
        rows.append(HistoryRow(
            release=release, url=f"{base}/datasets/{release.dataset}/releases/{release.number}",
            privacy_url=report_page_url(request.app, base, "privacy", release.dataset, release.number),
            validation_url=report_page_url(request.app, base, "validation", release.dataset, release.number),
            diff=diff,
        ))
    return rows


def _key(schema: dict[str, Any]) -> list[str]:
    key = schema.get("primaryKey") or []
    return [key] if isinstance(key, str) else [str(k) for k in key]


def _size(web: WebState, release: Release, filename: str) -> str:
    try:
        size = float(web.facts.engine.storage.size(release, filename))
    except (CatalogError, OSError):
        return ""
    if size < 1024:
        return f"{int(size):,} bytes"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            break
    return f"{size:,.1f} {unit}"
