"""Column profiles, sample rows and temporal coverage of a release's Parquet file: its facts.

A profile is two queries over the file: one for counts, nulls, distinct values and ranges of every column,
one (a UNION ALL) for every column's histogram (numbers, dates, datetimes) or top values (everything else).
Releases are immutable, so the publish stage computes these once, over the file it has just written, and
stores them with the release as ``facts.json`` (``compute_facts``), with its DCAT facts (the byte size of
each of the release's other files, ``with_byte_sizes``, beside the coverage); the pages and the DCAT catalog
read them back (``read_facts``) instead of querying the data or the storage. Releases published before there
was a ``facts.json`` (or before it held byte sizes) are profiled or measured when first shown
(``api.web.profile``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from catalog.chart_ranges import LABELS, ShownRange, bucket_labels, interval_for, shown_range
from catalog.geometry import geometry_columns
from opendata.sql_text import quote_identifier

if TYPE_CHECKING:  # catalog.dcat loads rdflib, which the publish stage need not pay for at start
    from catalog.dcat import Coverage

#: Runs one SELECT with bound parameters and returns its result.
Runner = Callable[[str, list[Any]], pa.Table]
FACTS_FILE = "facts.json"
FACTS_VERSION = 2
#: Versions ``read_facts`` reads: a version-1 document lacks the fields added since (their defaults apply).
READABLE_VERSIONS = (1, 2)

HISTOGRAM_BINS = 12
TOP_VALUES = 5
SAMPLE_ROWS = 10
#: Up to this many rows, distinct counts and quantiles are exact; past it, estimates (labelled as such).
EXACT_ROWS = 1_000_000
GEOMETRY_LABEL = 80  # characters of a geometry's WKT a sample cell shows
NUMERIC = {"integer", "number", "year"}
TEMPORAL = {"date", "datetime"}
UNPROFILED = {"object", "array", "geojson", "geopoint", "duration", "any"}


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    share: float = 0.0  # count relative to the largest bar, for drawing


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    type: str
    nulls: int
    distinct: int | None
    minimum: str | None
    maximum: str | None
    kind: str  # "histogram", "timeseries", "top-values", "unique" (no value repeats) or "none"
    bars: list[Bar] = field(default_factory=list)
    distinct_exact: bool = False  # False: an estimate (HyperLogLog), never above the non-empty values
    shown_low: str | None = None  # the chart's range, when clipped to leave outliers out
    shown_high: str | None = None
    below: int = 0  # values below shown_low, not drawn
    above: int = 0  # values above shown_high, not drawn
    interval: str | None = None  # a time series' bucket: hour, day, week, month or year

    @property
    def distinct_text(self) -> str:
        """"1,234 distinct", or "about 1,200 distinct (estimate)"."""
        if self.distinct is None:
            return ""
        if self.distinct_exact:
            return f"{self.distinct:,} distinct"
        return f"about {self.distinct:,} distinct (estimate)"

    @property
    def outliers(self) -> str:
        """What the chart leaves out, in words ("3 values above 1,240 not shown"), or ""."""
        later = self.type in TEMPORAL
        parts = []
        if self.below:
            parts.append(f"{self.below:,} value{'s' if self.below != 1 else ''} "
                         f"{'before' if later else 'below'} {self.shown_low}")
        if self.above:
            parts.append(f"{self.above:,} value{'s' if self.above != 1 else ''} "
                         f"{'after' if later else 'above'} {self.shown_high}")
        return " and ".join(parts) + " not shown (outliers)" if parts else ""

    @property
    def summary(self) -> str:
        """One sentence that says what the chart shows (its accessible name)."""
        if self.kind in ("histogram", "timeseries") and self.bars:
            peak = max(self.bars, key=lambda b: b.count)
            low, high = self.shown_low or self.minimum, self.shown_high or self.maximum
            what = (f"Rows per {self.interval} of {self.name}" if self.kind == "timeseries"
                    else f"Histogram of {self.name}")
            unit = "bars" if self.kind == "timeseries" else "bins"
            text = (f"{what}: {len(self.bars)} {unit} from {low} to {high}; "
                    f"the largest, {peak.label}, holds {peak.count:,} rows.")
            return text + (f" {self.outliers}." if self.outliers else "")
        if self.kind == "top-values" and self.bars:
            top = ", ".join(f"{b.label} ({b.count:,})" for b in self.bars[:3])
            return f"Most frequent values of {self.name}: {top}."
        if self.kind == "unique":
            return f"Every value of {self.name} is different."
        return f"No chart for {self.name}."


def _label(value: Any) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)


def profile_file(run: Runner, path: str, table_schema: dict[str, Any]) -> list[ColumnProfile]:
    """Profiles of every column of a Parquet file (``run`` executes SQL with parameters)."""
    fields = [f for f in table_schema.get("fields", []) if "name" in f]
    if not fields:
        return []
    rows = int(run("SELECT count(*) AS n FROM read_parquet(?)", [path]).to_pylist()[0]["n"])
    exact = rows <= EXACT_ROWS
    stats_sql = ["count(*) AS __rows"]
    for i, f in enumerate(fields):
        column, kind = quote_identifier(str(f["name"])), str(f.get("type", "string"))
        stats_sql.append(f"count({column}) AS n{i}")
        if kind not in UNPROFILED:
            stats_sql.append(f"{'count(DISTINCT ' if exact else 'approx_count_distinct('}{column}) AS d{i}")
        if kind in NUMERIC | TEMPORAL:
            value = f"epoch({column})::DOUBLE" if kind in TEMPORAL else f"{column}::DOUBLE"
            quantile = "quantile_cont" if exact else "approx_quantile"
            stats_sql += [f"min({value}) AS lo{i}", f"max({value}) AS hi{i}",
                          f"{quantile}({value}, [0.01, 0.25, 0.75, 0.99]) AS q{i}"]
    stats = run(f"SELECT {', '.join(stats_sql)} FROM read_parquet(?)", [path]).to_pylist()[0]

    parts: list[str] = []
    ranges: dict[int, ShownRange] = {}
    intervals: dict[int, str] = {}
    for i, f in enumerate(fields):
        column, kind = quote_identifier(str(f["name"])), str(f.get("type", "string"))
        lo, hi = stats.get(f"lo{i}"), stats.get(f"hi{i}")
        if kind in NUMERIC | TEMPORAL and lo is not None and hi is not None:
            shown = ranges[i] = shown_range(float(lo), float(hi), stats.get(f"q{i}"))
            value = f"epoch({column})::DOUBLE" if kind in TEMPORAL else f"{column}::DOUBLE"
            if kind in TEMPORAL:
                interval = intervals[i] = interval_for(shown.high - shown.low, kind)
                inside = f"strftime(date_trunc('{interval}', {column}::TIMESTAMP), '{LABELS[interval]}')"
            else:
                width = (shown.high - shown.low) / HISTOGRAM_BINS if shown.high > shown.low else 1.0
                inside = f"least(floor(({value} - {shown.low!r}) / {width!r}), {HISTOGRAM_BINS - 1})::INTEGER::VARCHAR"
            bucket = (f"CASE WHEN {value} < {shown.low!r} THEN 'below' WHEN {value} > {shown.high!r} THEN 'above' "
                      f"ELSE {inside} END")
            parts.append(
                f"(SELECT {i} AS col, {bucket} AS v, count(*) AS n FROM t WHERE {column} IS NOT NULL GROUP BY 2)"
            )
        elif kind not in UNPROFILED:
            parts.append(
                f"(SELECT {i} AS col, {column}::VARCHAR AS v, count(*) AS n FROM t WHERE {column} IS NOT NULL "
                f"GROUP BY 2 ORDER BY 3 DESC, 2 LIMIT {TOP_VALUES})"
            )
    grouped: dict[int, list[tuple[str, int]]] = {}
    if parts:
        sql = f"WITH t AS MATERIALIZED (SELECT * FROM read_parquet(?)) {' UNION ALL '.join(parts)}"
        for row in run(sql, [path]).to_pylist():
            grouped.setdefault(int(row["col"]), []).append((str(row["v"]), int(row["n"])))

    profiles = []
    for i, f in enumerate(fields):
        name, kind = str(f["name"]), str(f.get("type", "string"))
        lo, hi = stats.get(f"lo{i}"), stats.get(f"hi{i}")
        found = grouped.get(i, [])
        counts = dict(found)
        clip = ranges.get(i)
        extra: dict[str, Any] = {}
        if clip is not None:
            if kind in TEMPORAL:
                labels = bucket_labels(clip.low, clip.high, intervals[i])
                bars = [Bar(label, counts.get(label, 0)) for label in labels]
                profile_kind, extra["interval"] = "timeseries", intervals[i]
            else:
                bars = _histogram(counts, clip.low, clip.high, kind)
                profile_kind = "histogram"
            if clip.clipped:
                extra.update(shown_low=_bound(clip.low, kind), shown_high=_bound(clip.high, kind),
                             below=counts.get("below", 0), above=counts.get("above", 0))
        elif found and max(n for _, n in found) == 1:
            bars, profile_kind = [], "unique"
        elif found:
            bars = [Bar(label, count) for label, count in sorted(found, key=lambda x: (-x[1], x[0]))]
            profile_kind = "top-values"
        else:
            bars, profile_kind = [], "none"
        peak = max((b.count for b in bars), default=0)
        bars = [Bar(b.label, b.count, b.count / peak if peak else 0.0) for b in bars]
        present = int(stats[f"n{i}"])
        distinct = stats.get(f"d{i}")
        profiles.append(ColumnProfile(
            name=name, type=kind, nulls=rows - present,
            distinct=None if distinct is None else min(int(distinct), present), distinct_exact=exact,
            minimum=_bound(lo, kind), maximum=_bound(hi, kind), kind=profile_kind, bars=bars, **extra,
        ))
    return profiles


def _bound(value: Any, kind: str) -> str | None:
    if value is None:
        return None
    if kind in TEMPORAL:
        moment = datetime.fromtimestamp(float(value), UTC)
        return moment.date().isoformat() if kind == "date" else moment.strftime("%Y-%m-%d %H:%M")
    if kind in ("integer", "year"):
        return f"{int(value):,}" if kind == "integer" else str(int(value))
    return _label(float(value))


def _histogram(counts: dict[str, int], lo: float, hi: float, kind: str) -> list[Bar]:
    bins = HISTOGRAM_BINS if hi > lo else 1
    width = (hi - lo) / bins if hi > lo else 1.0
    return [Bar(f"{_bound(lo + b * width, kind)} – {_bound(lo + (b + 1) * width if hi > lo else hi, kind)}",
                counts.get(str(b), 0)) for b in range(bins)]


def sample_file(
    run: Runner, path: str, table_schema: dict[str, Any], limit: int = SAMPLE_ROWS
) -> tuple[list[str], list[list[str]]]:
    """The first rows of a Parquet file, as display strings."""
    columns = [str(f["name"]) for f in table_schema.get("fields", []) if "name" in f]
    if not columns:
        return [], []
    geometry = set(geometry_columns(table_schema))
    # geometry as WKT (DuckDB's own ST_AsText, no extension needed), not the Parquet file's WKB bytes
    selects = [f"ST_AsText({quote_identifier(c)})" if c in geometry else quote_identifier(c) for c in columns]
    try:
        table = run(f"SELECT {', '.join(selects)} FROM read_parquet(?) LIMIT {int(limit)}", [path])
    except duckdb.BinderException:  # a geojson column stored as text or bytes, not GEOMETRY: shown as it is
        geometry = set()
        selects = [quote_identifier(c) for c in columns]
        table = run(f"SELECT {', '.join(selects)} FROM read_parquet(?) LIMIT {int(limit)}", [path])
    return columns, [["" if v is None else _shape(v) if c in geometry else _label(v) for c, v in
                      zip(columns, row.values(), strict=True)] for row in table.to_pylist()]


def _shape(wkt: Any) -> str:
    """A geometry's WKT, shortened for a table cell (the rows API serves the whole GeoJSON)."""
    text = str(wkt)
    return text if len(text) <= GEOMETRY_LABEL else text[: GEOMETRY_LABEL - 1].rstrip(", ") + "…"


def coverage_of_file(run: Runner, path: str, table_schema: dict[str, Any]) -> Coverage | None:
    """First and last value of the file's first date or datetime column."""
    from catalog.dcat import Coverage

    for f in table_schema.get("fields", []):
        kind = f.get("type")
        if kind not in TEMPORAL or "name" not in f:
            continue
        column = quote_identifier(str(f["name"]))
        row = run(f"SELECT min({column}) AS lo, max({column}) AS hi FROM read_parquet(?)", [path])
        lo, hi = row.to_pylist()[0].values()
        if lo is None or hi is None:
            return None
        if isinstance(lo, datetime) and isinstance(hi, datetime):
            return Coverage(start=_iso(lo), end=_iso(hi), kind="datetime")
        if isinstance(lo, date) and isinstance(hi, date):
            return Coverage(start=lo.isoformat(), end=hi.isoformat(), kind="date")
        return None
    return None


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")




@dataclass(frozen=True)
class Facts:
    """What the pages show of a release besides its schema: profiles, sample rows, temporal coverage."""

    profiles: list[ColumnProfile]
    sample_columns: list[str]
    sample_rows: list[list[str]]
    coverage: Coverage | None
    #: file name -> bytes of the release's other files (empty in a facts.json written before they were kept)
    byte_sizes: dict[str, int] = field(default_factory=dict)


def with_byte_sizes(facts: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``facts`` with the byte size of every file in the release's build ``folder`` (its DCAT byte sizes)."""
    sizes = {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file() and p.name != FACTS_FILE}
    return {**facts, "byte_sizes": sizes}


def compute_facts(path: Path, table_schema: dict[str, Any], memory_limit: str = "512MB") -> dict[str, Any]:
    """The facts of a Parquet file as the JSON document stored with its release (a DuckDB of its own)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET memory_limit = ?", [memory_limit])
        con.execute("SET threads = 1")
        con.execute("SET TimeZone = 'UTC'")

        def run(sql: str, params: list[Any]) -> pa.Table:
            return con.execute(sql, params).to_arrow_table()

        profiles = profile_file(run, str(path), table_schema)
        columns, rows = sample_file(run, str(path), table_schema)
        coverage = coverage_of_file(run, str(path), table_schema)
    finally:
        con.close()
    return {
        "version": FACTS_VERSION, "profiles": [asdict(p) for p in profiles], "sample_columns": columns,
        "sample_rows": rows, "coverage": asdict(coverage) if coverage else None,
    }


def read_facts(document: Any) -> Facts | None:
    """The facts a stored ``facts.json`` holds; None when it is not a document of this version."""
    if not isinstance(document, dict) or document.get("version") not in READABLE_VERSIONS:
        return None
    try:
        profiles = [ColumnProfile(**{**p, "bars": [Bar(**b) for b in p.get("bars", [])]})
                    for p in document["profiles"]]
        from catalog.dcat import Coverage

        coverage = Coverage(**document["coverage"]) if document.get("coverage") else None
        sizes = {str(k): int(v) for k, v in (document.get("byte_sizes") or {}).items()}
        return Facts(profiles, [str(c) for c in document["sample_columns"]],
                     [[str(v) for v in row] for row in document["sample_rows"]], coverage, sizes)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
