"""Robust chart ranges and calendar buckets for column profiles (``catalog.release_facts``).

A histogram's axis runs over the values people should see, not over the one typo'd year or the meter
reading of 10^9: the range is clipped to the values inside ``q1 - 3 IQR`` .. ``q3 + 3 IQR`` (Tukey's far
fences), never past the 1st and 99th percentiles, and the values outside are counted and named beside
the chart ("3 values above 1,240 not shown"). Date and datetime columns get a time series instead: counts
per hour, day, week, month or year, the bucket chosen from the span so a chart holds a readable number of
bars (``interval_for``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: Tukey's "far out" fence: values beyond 3 IQR of the quartiles.
FENCE = 3.0
#: Largest span (seconds) each bucket is used for, smallest bucket first.
INTERVALS = (("hour", 4 * 86_400), ("day", 120 * 86_400), ("week", 3 * 365 * 86_400), ("month", 40 * 365 * 86_400))
#: strftime pattern of a bucket's label (also its key in the profile's SQL).
LABELS = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


@dataclass(frozen=True)
class ShownRange:
    """The part of a column's range a chart shows: ``low`` .. ``high`` (both within the data's range)."""

    low: float
    high: float
    clipped: bool


def shown_range(lo: float, hi: float, quantiles: list[float] | None) -> ShownRange:
    """``lo``..``hi`` clipped to the far fences, but never tighter than the 1st..99th percentiles.

    ``quantiles`` is [p1, q1, q3, p99] of the non-null values (None: not known, so not clipped)."""
    if not quantiles or len(quantiles) != 4 or any(q is None for q in quantiles) or hi <= lo:
        return ShownRange(lo, hi, False)
    p1, q1, q3, p99 = (float(q) for q in quantiles)
    spread = q3 - q1
    low = max(lo, min(p1, q1 - FENCE * spread))
    high = min(hi, max(p99, q3 + FENCE * spread))
    if high <= low:  # nearly all values equal: show everything rather than an empty axis
        return ShownRange(lo, hi, False)
    return ShownRange(low, high, low > lo or high < hi)


def interval_for(span_seconds: float, kind: str) -> str:
    """The calendar bucket of a time series over ``span_seconds`` (dates never finer than a day)."""
    for name, longest in INTERVALS:
        if name == "hour" and kind == "date":
            continue
        if span_seconds <= longest:
            return name
    return "year"


def bucket_start(moment: datetime, interval: str) -> datetime:
    """The start of the bucket holding ``moment`` (weeks start on Monday, as DuckDB's date_trunc)."""
    if interval == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def next_bucket(start: datetime, interval: str) -> datetime:
    if interval == "hour":
        return start + timedelta(hours=1)
    if interval == "day":
        return start + timedelta(days=1)
    if interval == "week":
        return start + timedelta(days=7)
    if interval == "month":
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start.replace(year=start.year + 1)


def bucket_labels(low: float, high: float, interval: str) -> list[str]:
    """Every bucket's label from the one holding ``low`` to the one holding ``high`` (epoch seconds, UTC)."""
    pattern = LABELS[interval]
    current = bucket_start(datetime.fromtimestamp(low, UTC), interval)
    last = datetime.fromtimestamp(high, UTC)
    labels: list[str] = []
    while current <= last and len(labels) < 2000:
        labels.append(current.strftime(pattern))
        current = next_bucket(current, interval)
    return labels
