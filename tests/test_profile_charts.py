"""Column profiles and their charts: exact distinct counts, ranges clipped to leave far outliers out (and
said), time series per hour/day/week/month chosen from the span, SVG charts with axes (real DuckDB over a
real Parquet file)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from api.web.charts import bar_chart, nice_top
from catalog.chart_ranges import bucket_labels, interval_for, shown_range
from catalog.release_facts import ColumnProfile, compute_facts, read_facts

SCHEMA = {"fields": [
    {"name": "amount", "type": "number"}, {"name": "opened", "type": "date"},
    {"name": "seen_at", "type": "datetime"}, {"name": "kind", "type": "string"},
    {"name": "code", "type": "integer"},
]}


def facts(tmp_path: Path, table: pa.Table, schema: dict = SCHEMA) -> dict[str, ColumnProfile]:  # type: ignore[type-arg]
    path = tmp_path / "data.parquet"
    pq.write_table(table, path)
    found = read_facts(compute_facts(path, schema))
    assert found is not None
    return {p.name: p for p in found.profiles}


def table(rows: int = 999) -> pa.Table:
    amounts = [float(i % 100) for i in range(rows - 3)] + [5000.0, 9000.0, 12000.0]  # three far outliers
    opened = [date(2011, 3, 1) + timedelta(days=i % 3) for i in range(rows - 1)] + [date(2011, 11, 2)]
    seen = [datetime(2024, 5, 1) + timedelta(minutes=7 * i) for i in range(rows)]  # about 4.9 days
    return pa.table({
        "amount": pa.array(amounts), "opened": pa.array(opened, pa.date32()),
        "seen_at": pa.array(seen, pa.timestamp("us")), "kind": pa.array([f"k{i % 7}" for i in range(rows)]),
        "code": pa.array([i % 1100 for i in range(rows)], pa.int64()),
    })


def test_distinct_counts_are_exact_and_never_exceed_the_rows(tmp_path: Path) -> None:
    found = facts(tmp_path, table())
    assert found["code"].distinct == 999 and found["code"].distinct_exact  # not "~1,100 distinct" of 999 rows
    assert found["code"].distinct_text == "999 distinct"
    assert found["kind"].distinct == 7
    estimate = ColumnProfile("x", "string", 0, 1100, None, None, "none", distinct_exact=False)
    assert estimate.distinct_text == "about 1,100 distinct (estimate)"


def test_far_outliers_are_left_out_of_the_axis_and_named(tmp_path: Path) -> None:
    amount = facts(tmp_path, table())["amount"]
    assert amount.kind == "histogram" and amount.above == 3 and amount.below == 0
    assert amount.maximum == "12,000" and amount.shown_high is not None and float(amount.shown_high) < 300
    assert amount.outliers == f"3 values above {amount.shown_high} not shown (outliers)"
    assert sum(b.count for b in amount.bars) == 996  # every value but the three is in a bar
    assert "3 values above" in amount.summary


def test_date_columns_get_a_time_series_from_their_span(tmp_path: Path) -> None:
    found = facts(tmp_path, table())
    opened = found["opened"]
    assert opened.kind == "timeseries" and opened.interval == "day"
    assert [b.label for b in opened.bars][:3] == ["2011-03-01", "2011-03-02", "2011-03-03"]
    assert opened.above == 1 and "1 value after" in opened.outliers  # the one in November is named, not drawn
    assert sum(b.count for b in opened.bars) == 998
    seen = found["seen_at"]
    assert seen.kind == "timeseries" and seen.interval == "day" and len(seen.bars) == 5
    assert sum(b.count for b in seen.bars) == 999 and not seen.outliers


def test_intervals_and_buckets() -> None:
    assert interval_for(3 * 86_400, "datetime") == "hour" and interval_for(3 * 86_400, "date") == "day"
    assert interval_for(60 * 86_400, "date") == "day" and interval_for(400 * 86_400, "date") == "week"
    assert interval_for(10 * 365 * 86_400, "date") == "month" and interval_for(80 * 365 * 86_400, "date") == "year"
    jan = datetime(2024, 1, 30).timestamp()
    assert bucket_labels(jan, datetime(2024, 3, 2).timestamp(), "month") == ["2024-01", "2024-02", "2024-03"]
    assert bucket_labels(datetime(2024, 5, 1, 22).timestamp(), datetime(2024, 5, 2, 1).timestamp(), "hour") == [
        "2024-05-01 22:00", "2024-05-01 23:00", "2024-05-02 00:00", "2024-05-02 01:00"]
    assert shown_range(0, 10, [0.1, 2, 8, 9.9]).clipped is False  # nothing far out: the whole range
    assert shown_range(0, 1000, [1, 2, 4, 5]).high == 10  # q3 + 3 IQR
    assert shown_range(0, 1000, [1, 2, 2, 200]).high == 200  # never tighter than the 99th percentile


def test_charts_have_axes_a_title_and_a_description(tmp_path: Path) -> None:
    amount = facts(tmp_path, table())["amount"]
    svg = str(bar_chart(amount, "chart-1"))
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert len(re.findall(r"<rect ", svg)) == len(amount.bars)
    ticks = re.findall(r'<text class="tick"[^>]*>([^<]*)</text>', svg)
    assert ticks[0] == "0" and ticks[2] == f"{nice_top(max(b.count for b in amount.bars)):,}"  # the y axis
    assert "0" in ticks[3:] and amount.bars[-1].label.split(" – ")[-1] in ticks  # the x axis, first and last
    assert "rows per bin" in svg and "3 values above" in svg
    assert nice_top(87) == 100 and nice_top(420) == 500 and nice_top(1) == 1 and nice_top(2100) == 2500


def test_facts_of_version_1_still_read_with_their_estimates_labelled_and_capped() -> None:
    from api.web.dataset_view import honest_distinct

    old = {"version": 1, "sample_columns": ["code"], "sample_rows": [["1"]], "coverage": None, "profiles": [
        {"name": "code", "type": "integer", "nulls": 0, "distinct": 1100, "minimum": "0", "maximum": "1,099",
         "kind": "histogram", "bars": [{"label": "0 – 1,099", "count": 999, "share": 1.0}]}]}
    found = read_facts(old)
    assert found is not None and found.profiles[0].distinct_exact is False
    shown = honest_distinct(found.profiles, rows=999)[0]
    assert shown.distinct == 999 and shown.distinct_text == "about 999 distinct (estimate)"
